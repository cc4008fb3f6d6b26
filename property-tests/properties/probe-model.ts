import fc from 'fast-check';
import { ProbeScenarioRunner, type ProbeOutcome, type ProbeType } from '../../agent/prober/index.js';
import type { ProbeSetup } from './probe-arbitraries.js';

/**
 * An independent, deliberately naive model of the probe rules, written from the rule statements rather
 * than from the worker code: no results cache, no effects, no container-ID bookkeeping — just counters.
 *
 * - A probe only runs on a running container, once `initialDelaySeconds` whole seconds have passed since
 *   it started, and only while it is held by nothing: startup runs until the container is started,
 *   liveness and readiness only after (started = no startup probe, or its worker is gone, or startup
 *   succeeded on this container).
 * - Errors are ignored. Consecutive equal results count up across container restarts; a kill or a
 *   startup verdict zeroes the count and holds that probe until the next container.
 * - Liveness: failureThreshold failures in a row → killed (LivenessProbe). Startup: one success →
 *   started; failureThreshold failures → killed (StartupProbe).
 * - Readiness: ready after successThreshold successes in a row, unready after failureThreshold
 *   failures; a new container starts unready.
 * - Deletion stops liveness and startup; readiness stops when the container is gone; every worker stops
 *   at its next tick once the pod is terminal.
 */
export class ProbeModel {
  t = 0;
  container: { id: string; startedAt: number; running: boolean; exitCode: number } | null = null;
  instances = 0;
  deleting = false;
  startupPassed = false;
  readinessOk = false;
  readonly alive: Record<ProbeType, boolean>;
  readonly held: Record<ProbeType, boolean> = { liveness: false, readiness: false, startup: false };
  readonly streak: Record<ProbeType, { last: 'success' | 'failure' | null; count: number }> = {
    liveness: { last: null, count: 0 },
    readiness: { last: null, count: 0 },
    startup: { last: null, count: 0 },
  };
  executed = 0;
  kills: Array<{ containerId: string; reason: 'LivenessProbe' | 'StartupProbe'; willRestart: boolean }> = [];

  constructor(readonly setup: ProbeSetup) {
    const p = setup.probes;
    this.alive = { liveness: p.liveness !== undefined, readiness: p.readiness !== undefined, startup: p.startup !== undefined };
  }

  defined(probe: ProbeType): boolean {
    return this.setup.probes[probe] !== undefined;
  }

  running(): boolean {
    return this.container?.running === true;
  }

  terminal(): boolean {
    const c = this.container;
    if (c === null || c.running) return false;
    const policy = this.setup.restartPolicy;
    return this.deleting || policy === 'Never' || (policy === 'OnFailure' && c.exitCode === 0);
  }

  started(): boolean {
    return this.running() && (!this.alive.startup || this.startupPassed);
  }

  ready(): boolean {
    return this.started() && (!this.alive.readiness || this.readinessOk);
  }

  delay(probe: ProbeType): number {
    return this.setup.probes[probe]?.initialDelaySeconds ?? 0;
  }

  /** Whether a tick of `probe` now would run its handler. */
  wouldRun(probe: ProbeType): boolean {
    const c = this.container;
    if (!this.alive[probe] || c === null || !c.running || this.held[probe]) return false;
    if (Math.trunc(this.t - c.startedAt) < this.delay(probe)) return false;
    return probe === 'startup' ? !this.started() : this.started();
  }

  tick(probe: ProbeType, outcome: ProbeOutcome): void {
    if (!this.alive[probe]) return;
    if (this.terminal()) {
      this.alive[probe] = false;
      return;
    }
    if (!this.wouldRun(probe)) return;
    this.executed++;
    if (outcome === 'error') return;
    const s = this.streak[probe];
    s.count = s.last === outcome ? s.count + 1 : 1;
    s.last = outcome;
    const id = (this.container as { id: string }).id;
    const willRestart = this.setup.restartPolicy !== 'Never';
    if (probe === 'liveness') {
      if (outcome === 'failure' && s.count >= (this.setup.probes.liveness?.failureThreshold ?? 3)) {
        this.kills.push({ containerId: id, reason: 'LivenessProbe', willRestart });
        this.hold(probe);
      }
    } else if (probe === 'startup') {
      if (outcome === 'success') {
        this.startupPassed = true;
        this.hold(probe);
      } else if (s.count >= (this.setup.probes.startup?.failureThreshold ?? 3)) {
        this.kills.push({ containerId: id, reason: 'StartupProbe', willRestart });
        this.hold(probe);
      }
    } else {
      const r = this.setup.probes.readiness;
      if (outcome === 'success' && s.count >= (r?.successThreshold ?? 1)) this.readinessOk = true;
      if (outcome === 'failure' && s.count >= (r?.failureThreshold ?? 3)) this.readinessOk = false;
    }
  }

  private hold(probe: ProbeType): void {
    this.held[probe] = true;
    this.streak[probe].count = 0;
  }

  start(): string {
    const id = `c${this.instances++}`;
    this.container = { id, startedAt: this.t, running: true, exitCode: 0 };
    this.held.liveness = this.held.readiness = this.held.startup = false;
    this.startupPassed = false;
    this.readinessOk = false;
    return id;
  }

  exit(exitCode: number): void {
    const c = this.container as { running: boolean; exitCode: number };
    c.running = false;
    c.exitCode = exitCode;
    if (this.deleting) this.alive.readiness = false;
  }

  delete(): void {
    this.deleting = true;
    this.alive.liveness = this.alive.startup = false;
    if (!this.running()) this.alive.readiness = false;
  }
}

type ProbeCommand = fc.Command<ProbeModel, ProbeScenarioRunner>;

function compare(model: ProbeModel, real: ProbeScenarioRunner): void {
  const out = real.outcome();
  if (out.executed.length !== model.executed) throw new Error(`executed ${out.executed.length} probes, model expects ${model.executed}`);
  const kills = out.kills.map(({ containerId, reason, willRestart }) => ({ containerId, reason, willRestart }));
  if (JSON.stringify(kills) !== JSON.stringify(model.kills)) throw new Error(`kills ${JSON.stringify(kills)}, model expects ${JSON.stringify(model.kills)}`);
  if (real.isReady() !== model.ready()) throw new Error(`ready=${real.isReady()}, model expects ${model.ready()}`);
  for (const probe of ['liveness', 'readiness', 'startup'] as const) {
    if (real.hasWorker(probe) !== model.alive[probe]) throw new Error(`${probe} worker alive=${real.hasWorker(probe)}, model expects ${model.alive[probe]}`);
  }
}

class TickCommand implements ProbeCommand {
  constructor(
    readonly probe: ProbeType,
    readonly outcome: ProbeOutcome,
    readonly dt: number,
  ) {}
  check(m: Readonly<ProbeModel>): boolean {
    return m.defined(this.probe);
  }
  run(m: ProbeModel, r: ProbeScenarioRunner): void {
    m.t += this.dt;
    m.tick(this.probe, this.outcome);
    r.apply({ t: m.t, kind: 'tick', probe: this.probe, outcome: this.outcome });
    compare(m, r);
  }
  toString(): string {
    return `+${this.dt}s tick ${this.probe} ${this.outcome}`;
  }
}

class StartCommand implements ProbeCommand {
  constructor(readonly dt: number) {}
  check(m: Readonly<ProbeModel>): boolean {
    return !m.running() && !m.deleting && !m.terminal();
  }
  run(m: ProbeModel, r: ProbeScenarioRunner): void {
    m.t += this.dt;
    const id = m.start();
    r.apply({ t: m.t, kind: 'containerStart', containerId: id });
    compare(m, r);
  }
  toString(): string {
    return `+${this.dt}s containerStart`;
  }
}

class ExitCommand implements ProbeCommand {
  constructor(
    readonly exitCode: number,
    readonly dt: number,
  ) {}
  check(m: Readonly<ProbeModel>): boolean {
    return m.running();
  }
  run(m: ProbeModel, r: ProbeScenarioRunner): void {
    m.t += this.dt;
    m.exit(this.exitCode);
    r.apply({ t: m.t, kind: 'containerExit', exitCode: this.exitCode });
    compare(m, r);
  }
  toString(): string {
    return `+${this.dt}s containerExit ${this.exitCode}`;
  }
}

class DeleteCommand implements ProbeCommand {
  constructor(readonly dt: number) {}
  check(m: Readonly<ProbeModel>): boolean {
    return !m.deleting;
  }
  run(m: ProbeModel, r: ProbeScenarioRunner): void {
    m.t += this.dt;
    m.delete();
    r.apply({ t: m.t, kind: 'deletePod' });
    compare(m, r);
  }
  toString(): string {
    return `+${this.dt}s deletePod`;
  }
}

const DTS = [1, 1, 1, 0, 0.5, 2, 3, 5] as const;
const WEIGHTED_OUTCOMES: readonly ProbeOutcome[] = ['success', 'failure', 'success', 'failure', 'error'];

/** Command factories repeated by weight (ticks 120 : exits 24 : starts 24 : deletes 8), simplest first. */
const COMMANDS: ReadonlyArray<() => ProbeCommand> = [
  ...DTS.flatMap((dt) =>
    (['liveness', 'readiness', 'startup'] as const).flatMap((probe) => WEIGHTED_OUTCOMES.map((outcome) => () => new TickCommand(probe, outcome, dt))),
  ),
  ...DTS.flatMap((dt) => [0, 1, 137].map((code) => () => new ExitCommand(code, dt))),
  ...DTS.flatMap((dt) => [0, 1, 2].map(() => () => new StartCommand(dt))),
  ...DTS.map((dt) => () => new DeleteCommand(dt)),
];

/**
 * Ticks dominate so thresholds are reached; deletion is rare because it ends most of the story.
 * `replayPath` is the value fast-check prints in a failing counterexample (`/*replayPath="…"*\/`):
 * replaying a model-based failure needs it besides seed and path.
 */
export const probeCommandsArb = (replayPath?: string) =>
  fc.commands([fc.integer({ min: 0, max: COMMANDS.length - 1 }).map((i) => (COMMANDS[i] as () => ProbeCommand)())], {
    maxCommands: 80,
    size: 'large',
    ...(replayPath === undefined ? {} : { replayPath }),
  });

/** Runs one model-based case: model and simulator side by side from the same setup, first container running at t=0. */
export function runProbeModel(setup: ProbeSetup, commands: Iterable<ProbeCommand>): void {
  fc.modelRun(() => {
    const model = new ProbeModel(setup);
    const real = new ProbeScenarioRunner(setup.restartPolicy, setup.probes);
    real.apply({ t: 0, kind: 'containerStart', containerId: model.start() });
    return { model, real };
  }, commands);
}
