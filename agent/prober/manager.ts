import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { effectiveProbe } from './effective-probe.js';
import { ResultsCache, type ResultUpdate } from './results-cache.js';
import { PROBE_TYPES, type EffectiveProbe, type ProbeOutcome, type ProbeType } from './types.js';
import { newWorkerState, stepWorker, type WorkerEffect, type WorkerEvent, type WorkerExitReason, type WorkerObservation, type WorkerState } from './worker.js';

/** Identifies one worker: one per (pod, container, probe type). */
export interface WorkerKey {
  readonly podUid: string;
  readonly containerName: string;
  readonly probeType: ProbeType;
}

/** What applying one worker event did, for callers that trace (the simulator) or act (the shell). */
export interface WorkerEventResult {
  /** The worker wants its handler run now against this container (then call `completeProbe`). */
  readonly runProbe: string | null;
  /** Cache entries added or changed, in order. */
  readonly updates: readonly ResultUpdate[];
  /** Set when the worker exited during this event (it is then removed from the manager). */
  readonly exited: WorkerExitReason | null;
  /** Set when the iteration was skipped for initialDelaySeconds: the time that delay elapses. */
  readonly initialDelayUntil: number | null;
}

const PROBE_FIELD: Readonly<Record<ProbeType, 'livenessProbe' | 'readinessProbe' | 'startupProbe'>> = {
  liveness: 'livenessProbe',
  readiness: 'readinessProbe',
  startup: 'startupProbe',
};

/**
 * The prober manager without goroutines (upstream `prober_manager.go`): owns the three results caches
 * and the workers, applies worker effects to the caches, and derives `started`/`ready` for container
 * statuses. It never waits: a shell decides when each worker iterates (its period ticks) and runs the
 * handlers; the simulator does the same from a scripted event list.
 */
export class ProbeManager {
  readonly caches: Readonly<Record<ProbeType, ResultsCache>> = {
    liveness: new ResultsCache('liveness'),
    readiness: new ResultsCache('readiness'),
    startup: new ResultsCache('startup'),
  };
  private readonly workers = new Map<string, { key: WorkerKey; state: WorkerState }>();

  /**
   * Creates the missing workers for every regular container and every restartable (sidecar) init
   * container that defines a probe (`AddPod`). Existing workers are kept as they are. Throws
   * InvalidInputError for an invalid probe.
   */
  addPod(pod: V1Pod): WorkerKey[] {
    const podUid = pod.metadata?.uid ?? '';
    const containers: Array<{ container: V1Container; field: string }> = [];
    (pod.spec?.initContainers ?? []).forEach((container, i) => {
      if (container.restartPolicy === 'Always') containers.push({ container, field: `spec.initContainers[${i}]` });
    });
    (pod.spec?.containers ?? []).forEach((container, i) => containers.push({ container, field: `spec.containers[${i}]` }));
    const added: WorkerKey[] = [];
    for (const { container, field } of containers) {
      for (const probeType of PROBE_TYPES) {
        const probe: V1Probe | undefined = container[PROBE_FIELD[probeType]];
        if (probe === undefined || probe === null) continue;
        const key: WorkerKey = { podUid, containerName: container.name, probeType };
        if (this.workers.has(keyString(key))) continue;
        this.addWorker(key, effectiveProbe(probe, probeType, `${field}.${PROBE_FIELD[probeType]}`));
        added.push(key);
      }
    }
    return added;
  }

  /** Adds one worker with an already defaulted spec (for callers that do not hold a V1Pod). */
  addWorker(key: WorkerKey, spec: EffectiveProbe): void {
    this.workers.set(keyString(key), { key, state: newWorkerState(key.probeType, spec) });
  }

  hasWorker(key: WorkerKey): boolean {
    return this.workers.has(keyString(key));
  }

  workerState(key: WorkerKey): WorkerState | undefined {
    return this.workers.get(keyString(key))?.state;
  }

  get workerCount(): number {
    return this.workers.size;
  }

  /** One worker iteration against what the status manager shows now. No worker → nothing happens. */
  iterate(key: WorkerKey, observation: WorkerObservation): WorkerEventResult {
    return this.deliver(key, { kind: 'iterate', observation });
  }

  /** Feeds the outcome of the handler that `iterate` asked for. */
  completeProbe(key: WorkerKey, outcome: ProbeOutcome): WorkerEventResult {
    return this.deliver(key, { kind: 'probeCompleted', outcome });
  }

  /** Pod termination begins: liveness and startup workers stop first (`StopLivenessAndStartup`). */
  stopLivenessAndStartup(podUid: string): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.stopWhere((k) => k.podUid === podUid && k.probeType !== 'readiness');
  }

  /** The pod's containers are gone: stop all its workers (`RemovePod`). */
  removePod(podUid: string): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.stopWhere((k) => k.podUid === podUid);
  }

  /** Stops the workers of every pod not in `desired` (`CleanupPods`). */
  cleanupPods(desired: ReadonlySet<string>): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.stopWhere((k) => !desired.has(k.podUid));
  }

  /**
   * `started` and `ready` of a regular or sidecar container status (`UpdatePodStatus`): started =
   * running and (startup result Success, or no result and no startup worker); ready = started and
   * (readiness result Success, or no readiness worker). `triggerReadiness` is true when upstream
   * would poke the readiness worker to run early.
   */
  containerStatus(
    podUid: string,
    containerName: string,
    container: { containerId: string; running: boolean },
  ): { started: boolean; ready: boolean; triggerReadiness: boolean } {
    if (!container.running) return { started: false, ready: false, triggerReadiness: false };
    const startup = this.caches.startup.get(container.containerId);
    const started =
      startup !== undefined ? startup === 'Success' : !this.hasWorker({ podUid, containerName, probeType: 'startup' });
    if (!started) return { started, ready: false, triggerReadiness: false };
    if (this.caches.readiness.get(container.containerId) === 'Success') return { started, ready: true, triggerReadiness: false };
    const readinessWorker = this.hasWorker({ podUid, containerName, probeType: 'readiness' });
    return { started, ready: !readinessWorker, triggerReadiness: readinessWorker };
  }

  private stopWhere(match: (key: WorkerKey) => boolean): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    const stopped: Array<{ key: WorkerKey; result: WorkerEventResult }> = [];
    for (const { key } of [...this.workers.values()]) {
      if (match(key)) stopped.push({ key, result: this.deliver(key, { kind: 'stop' }) });
    }
    return stopped;
  }

  private deliver(key: WorkerKey, event: WorkerEvent): WorkerEventResult {
    const id = keyString(key);
    const worker = this.workers.get(id);
    if (worker === undefined) return NOTHING;
    const step = stepWorker(worker.state, event);
    worker.state = step.state;
    return this.apply(id, key, step.effects);
  }

  private apply(id: string, key: WorkerKey, effects: readonly WorkerEffect[]): WorkerEventResult {
    if (effects.length === 0) return NOTHING;
    const cache = this.caches[key.probeType];
    let runProbe: string | null = null;
    let exited: WorkerExitReason | null = null;
    let initialDelayUntil: number | null = null;
    const updates: ResultUpdate[] = [];
    for (const effect of effects) {
      switch (effect.kind) {
        case 'setResult': {
          const update = cache.set(effect.containerId, effect.result, key.podUid);
          if (update !== null) updates.push(update);
          break;
        }
        case 'removeResult':
          cache.remove(effect.containerId);
          break;
        case 'runProbe':
          runProbe = effect.containerId;
          break;
        case 'initialDelay':
          initialDelayUntil = effect.until;
          break;
        case 'exit':
          exited = effect.reason;
          this.workers.delete(id);
          break;
      }
    }
    return { runProbe, updates, exited, initialDelayUntil };
  }
}

const NOTHING: WorkerEventResult = { runProbe: null, updates: [], exited: null, initialDelayUntil: null };

function keyString(key: WorkerKey): string {
  return `${key.podUid}\u0000${key.containerName}\u0000${key.probeType}`;
}
