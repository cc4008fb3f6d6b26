import type { V1Probe } from '@kubernetes/client-node';
import { InvalidInputError, expectArray, expectNumber, expectObject, expectOneOf, expectString } from '../util/invalid-input.js';
import { effectiveProbe } from './effective-probe.js';
import { ProbeManager, type WorkerEventResult, type WorkerKey } from './manager.js';
import type { ResultUpdate } from './results-cache.js';
import { PROBE_TYPES, RESTART_POLICIES, type EffectiveProbe, type PodPhase, type ProbeOutcome, type ProbeResult, type ProbeType, type RestartPolicy } from './types.js';

/** A scripted history of one single-container pod, for `simulateProbes`. Times are seconds. */
export interface ProbeScenario {
  readonly restartPolicy: RestartPolicy;
  readonly probes: { readonly liveness?: V1Probe; readonly readiness?: V1Probe; readonly startup?: V1Probe };
  readonly events: readonly ProbeScenarioEvent[];
}

export type ProbeScenarioEvent =
  /** The runtime started a container instance (a restart is a new instance with a new ID). */
  | { readonly t: number; readonly kind: 'containerStart'; readonly containerId: string }
  /** The running instance exited (on its own, or after a kill you saw in `kills`). */
  | { readonly t: number; readonly kind: 'containerExit'; readonly exitCode: number }
  /** One iteration of that probe's worker; `outcome` is what the handler returns if it runs. */
  | { readonly t: number; readonly kind: 'tick'; readonly probe: ProbeType; readonly outcome: ProbeOutcome }
  /** The pod gets a deletion timestamp: the kubelet starts terminating it. */
  | { readonly t: number; readonly kind: 'deletePod' };

export interface ProbeSimulation {
  /** The five defaulted timing fields of every probe the scenario defines. */
  readonly effectiveProbes: { readonly liveness?: EffectiveProbe; readonly readiness?: EffectiveProbe; readonly startup?: EffectiveProbe };
  /** Ticks that ran the handler. */
  readonly executed: ReadonlyArray<{ t: number; probe: ProbeType; outcome: ProbeOutcome }>;
  /** Every results-cache write that added or changed an entry, initial values included. */
  readonly results: ReadonlyArray<{ t: number; probe: ProbeType; containerId: string; result: ProbeResult }>;
  /** Probe-triggered kills of the running container. */
  readonly kills: ReadonlyArray<{ t: number; containerId: string; reason: 'LivenessProbe' | 'StartupProbe'; willRestart: boolean }>;
  /** Transitions of the container's Ready flag (initially false). */
  readonly ready: ReadonlyArray<{ t: number; ready: boolean }>;
  /** Workers that exited or were stopped. */
  readonly workersStopped: ReadonlyArray<{ t: number; probe: ProbeType }>;
}

const POD_UID = 'simulated-pod';
const CONTAINER = 'app';
const EVENT_KINDS = ['containerStart', 'containerExit', 'tick', 'deletePod'] as const;
const OUTCOMES: readonly ProbeOutcome[] = ['success', 'failure', 'error'];

/**
 * What the kubelet's probe workers do with one container, given a scripted history (issue 6):
 * the upstream worker state machine (semantics §2) driven by explicit ticks.
 *
 * The kubelet side is modelled as one consistent status snapshot per event: a tick sees the results
 * cache as it is at that instant. On `deletePod` the liveness and startup workers are stopped at once
 * (`StopLivenessAndStartup`); the readiness worker keeps probing until the container has exited (then
 * `RemovePod`). Kills are reported, not enacted: the container's exit and restart are the next events
 * you script (the kubelet restarts it with a new container ID unless `willRestart` is false).
 *
 * @example
 * simulateProbes({
 *   restartPolicy: 'Always',
 *   probes: { liveness: { failureThreshold: 2, exec: { command: ['true'] } } },
 *   events: [
 *     { t: 0, kind: 'containerStart', containerId: 'c1' },
 *     { t: 10, kind: 'tick', probe: 'liveness', outcome: 'failure' },
 *     { t: 20, kind: 'tick', probe: 'liveness', outcome: 'failure' },
 *   ],
 * }).kills; // → [{ t: 20, containerId: 'c1', reason: 'LivenessProbe', willRestart: true }]
 */
export function simulateProbes(scenario: ProbeScenario): ProbeSimulation {
  const parsed = parseProbeScenario(scenario);
  const runner = new ProbeScenarioRunner(parsed.restartPolicy, parsed.probes);
  parsed.events.forEach((event, i) => runner.apply(event, `events[${i}]`));
  return runner.outcome();
}

/** Validates an untrusted scenario (e.g. a JSON file); throws InvalidInputError naming the field. */
export function parseProbeScenario(input: unknown): ProbeScenario {
  const root = expectObject(input, 'scenario');
  const restartPolicy = expectOneOf(root['restartPolicy'] ?? 'Always', 'restartPolicy', RESTART_POLICIES);
  const probesIn = expectObject(root['probes'] ?? {}, 'probes');
  for (const name of Object.keys(probesIn)) {
    if (!(PROBE_TYPES as readonly string[]).includes(name)) {
      throw new InvalidInputError(`probes.${name}`, `unknown probe type (expected ${PROBE_TYPES.join(', ')})`);
    }
  }
  const probes: { liveness?: V1Probe; readiness?: V1Probe; startup?: V1Probe } = {};
  for (const type of PROBE_TYPES) {
    const probe = probesIn[type];
    if (probe === undefined || probe === null) continue;
    effectiveProbe(probe, type, `probes.${type}`);
    probes[type] = probe as V1Probe;
  }
  const events = expectArray(root['events'] ?? [], 'events').map((raw, i) => parseEvent(raw, `events[${i}]`, probes));
  return { restartPolicy, probes, events };
}

function parseEvent(raw: unknown, field: string, probes: ProbeScenario['probes']): ProbeScenarioEvent {
  const event = expectObject(raw, field);
  const t = expectNumber(event['t'], `${field}.t`, { min: 0 });
  const kind = expectOneOf(event['kind'], `${field}.kind`, EVENT_KINDS);
  switch (kind) {
    case 'containerStart':
      return { t, kind, containerId: expectString(event['containerId'], `${field}.containerId`) };
    case 'containerExit':
      return { t, kind, exitCode: expectNumber(event['exitCode'], `${field}.exitCode`, { integer: true, min: 0, max: 255 }) };
    case 'tick': {
      const probe = expectOneOf(event['probe'], `${field}.probe`, PROBE_TYPES);
      if (probes[probe] === undefined) throw new InvalidInputError(`${field}.probe`, `the scenario defines no ${probe} probe`);
      return { t, kind, probe, outcome: expectOneOf(event['outcome'], `${field}.outcome`, OUTCOMES) };
    }
    case 'deletePod':
      return { t, kind };
  }
}

interface ContainerInstance {
  readonly id: string;
  readonly startedAt: number;
  running: boolean;
  exitCode: number | null;
}

/**
 * The simulator as an incremental object: feed events one at a time, read the outcome so far.
 * `simulateProbes` is this plus input validation; the model-based property test drives it directly.
 */
export class ProbeScenarioRunner {
  readonly effectiveProbes: ProbeSimulation['effectiveProbes'];
  private readonly manager = new ProbeManager();
  private container: ContainerInstance | null = null;
  private readonly seenIds = new Set<string>();
  private deleting = false;
  private lastT = 0;
  private currentReady = false;
  private readonly executed: Array<{ t: number; probe: ProbeType; outcome: ProbeOutcome }> = [];
  private readonly results: Array<{ t: number; probe: ProbeType; containerId: string; result: ProbeResult }> = [];
  private readonly kills: Array<{ t: number; containerId: string; reason: 'LivenessProbe' | 'StartupProbe'; willRestart: boolean }> = [];
  private readonly readyLog: Array<{ t: number; ready: boolean }> = [];
  private readonly stoppedLog: Array<{ t: number; probe: ProbeType }> = [];

  constructor(
    readonly restartPolicy: RestartPolicy,
    probes: ProbeScenario['probes'],
  ) {
    const effective: { liveness?: EffectiveProbe; readiness?: EffectiveProbe; startup?: EffectiveProbe } = {};
    for (const probeType of PROBE_TYPES) {
      const probe = probes[probeType];
      if (probe === undefined) continue;
      effective[probeType] = effectiveProbe(probe, probeType, `probes.${probeType}`);
      this.manager.addWorker(this.key(probeType), effective[probeType]);
    }
    this.effectiveProbes = effective;
  }

  /** Applies one event; throws InvalidInputError (naming `field`) for a history the kubelet cannot produce. */
  apply(event: ProbeScenarioEvent, field = 'event'): void {
    if (event.t < this.lastT) throw new InvalidInputError(`${field}.t`, `must not be earlier than the previous event (${this.lastT})`);
    this.lastT = event.t;
    switch (event.kind) {
      case 'containerStart':
        this.start(event.t, event.containerId, field);
        break;
      case 'containerExit':
        this.exit(event.t, event.exitCode, field);
        break;
      case 'tick':
        this.tick(event.t, event.probe, event.outcome, field);
        break;
      case 'deletePod':
        this.deletePod(event.t, field);
        break;
    }
    this.recordReady(event.t);
  }

  outcome(): ProbeSimulation {
    return {
      effectiveProbes: this.effectiveProbes,
      executed: [...this.executed],
      results: [...this.results],
      kills: [...this.kills],
      ready: [...this.readyLog],
      workersStopped: [...this.stoppedLog],
    };
  }

  /** Current pod phase (semantics §4.5 for a single container; terminal phases are sticky). */
  podPhase(): PodPhase {
    const c = this.container;
    if (c === null) return 'Pending';
    if (c.running) return 'Running';
    const succeeded = c.exitCode === 0;
    if (this.deleting) return succeeded ? 'Succeeded' : 'Failed';
    switch (this.restartPolicy) {
      case 'Always':
        return 'Running';
      case 'OnFailure':
        return succeeded ? 'Succeeded' : 'Running';
      case 'Never':
        return succeeded ? 'Succeeded' : 'Failed';
    }
  }

  hasWorker(probe: ProbeType): boolean {
    return this.manager.hasWorker(this.key(probe));
  }

  isReady(): boolean {
    return this.currentReady;
  }

  private start(t: number, containerId: string, field: string): void {
    if (this.container?.running === true) {
      throw new InvalidInputError(`${field}.kind`, `containerStart while container ${this.container.id} is still running`);
    }
    if (this.deleting) throw new InvalidInputError(`${field}.kind`, 'containerStart after deletePod: the kubelet never starts containers of a pod being deleted');
    const phase = this.podPhase();
    if (phase === 'Succeeded' || phase === 'Failed') {
      throw new InvalidInputError(`${field}.kind`, `containerStart after the pod became ${phase} (restartPolicy ${this.restartPolicy})`);
    }
    if (this.seenIds.has(containerId)) throw new InvalidInputError(`${field}.containerId`, `${containerId} was already used by an earlier instance`);
    this.seenIds.add(containerId);
    this.container = { id: containerId, startedAt: t, running: true, exitCode: null };
  }

  private exit(t: number, exitCode: number, field: string): void {
    if (this.container?.running !== true) throw new InvalidInputError(`${field}.kind`, 'containerExit while no container is running');
    this.container.running = false;
    this.container.exitCode = exitCode;
    // Termination waits for the containers to stop, then removes the remaining (readiness) workers.
    if (this.deleting) this.recordStops(t, this.manager.removePod(POD_UID));
  }

  private deletePod(t: number, field: string): void {
    if (this.deleting) throw new InvalidInputError(`${field}.kind`, 'the pod is already being deleted');
    this.deleting = true;
    this.recordStops(t, this.manager.stopLivenessAndStartup(POD_UID));
    if (this.container?.running !== true) this.recordStops(t, this.manager.removePod(POD_UID));
  }

  private tick(t: number, probe: ProbeType, outcome: ProbeOutcome, _field: string): void {
    const key = this.key(probe);
    if (!this.manager.hasWorker(key)) return; // that worker has exited: nothing iterates any more
    const c = this.container;
    const first = this.manager.iterate(key, {
      now: t,
      podPhase: this.podPhase(),
      container:
        c === null
          ? null
          : { containerId: c.id, state: c.running ? 'running' : 'terminated', startedAt: c.startedAt, started: this.started() },
      restartPolicy: this.restartPolicy,
      podDeleting: this.deleting,
    });
    this.record(t, probe, first);
    if (first.runProbe === null) return;
    this.executed.push({ t, probe, outcome });
    this.record(t, probe, this.manager.completeProbe(key, outcome));
  }

  private record(t: number, probe: ProbeType, result: WorkerEventResult): void {
    for (const update of result.updates) this.onUpdate(t, update);
    if (result.exited !== null) this.stoppedLog.push({ t, probe });
  }

  private recordStops(t: number, stops: Array<{ key: WorkerKey; result: WorkerEventResult }>): void {
    for (const { key, result } of stops) this.record(t, key.probeType, result);
  }

  /** A cache update makes the kubelet sync the pod: a liveness/startup Failure kills a running container. */
  private onUpdate(t: number, update: ResultUpdate): void {
    this.results.push({ t, probe: update.probeType, containerId: update.containerId, result: update.result });
    const c = this.container;
    if (update.result !== 'Failure' || update.probeType === 'readiness' || c === null || !c.running || c.id !== update.containerId) return;
    this.kills.push({
      t,
      containerId: c.id,
      reason: update.probeType === 'liveness' ? 'LivenessProbe' : 'StartupProbe',
      willRestart: this.restartPolicy !== 'Never' && !this.deleting,
    });
  }

  private started(): boolean {
    const c = this.container;
    if (c === null) return false;
    return this.manager.containerStatus(POD_UID, CONTAINER, { containerId: c.id, running: c.running }).started;
  }

  private recordReady(t: number): void {
    const c = this.container;
    const ready = c !== null && this.manager.containerStatus(POD_UID, CONTAINER, { containerId: c.id, running: c.running }).ready;
    if (ready !== this.currentReady) {
      this.currentReady = ready;
      this.readyLog.push({ t, ready });
    }
  }

  private key(probeType: ProbeType): WorkerKey {
    return { podUid: POD_UID, containerName: CONTAINER, probeType };
  }
}
