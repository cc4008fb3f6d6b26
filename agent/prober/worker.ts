import { INITIAL_RESULT, type EffectiveProbe, type PodPhase, type ProbeOutcome, type ProbeResult, type ProbeType, type RestartPolicy } from './types.js';

/**
 * The probe worker of one (pod, container, probe type) as a pure state machine: upstream
 * `worker.doProbe` split at the point where the handler runs, so that the same code serves the
 * scenario simulator (outcomes given) and the running prober (outcomes from real handlers on a clock).
 *
 * One iteration = `iterate` (steps 1–8 of semantics §2.3); if it asks to run the probe, the shell runs
 * the handler and feeds the outcome back with `probeCompleted` (steps 9–12). Nothing here reads a clock:
 * time comes in with the observation.
 */

/** What the worker reads from the status manager at the start of an iteration. */
export interface WorkerObservation {
  /** Current time, in seconds on the same clock as `container.startedAt`. */
  readonly now: number;
  /** Pod phase from the status manager; null while the pod has no status yet. */
  readonly podPhase: PodPhase | null;
  /** The probed container's status; null while it has none or no container ID yet. */
  readonly container: ContainerObservation | null;
  /** Restart policy that applies to this container (restartable init containers: 'Always'). */
  readonly restartPolicy: RestartPolicy;
  /** Whether the pod object the worker was created from carries a deletion timestamp. */
  readonly podDeleting: boolean;
}

export interface ContainerObservation {
  readonly containerId: string;
  readonly state: 'running' | 'terminated' | 'waiting';
  /** Seconds; required when running (the status' `state.running.startedAt`). */
  readonly startedAt?: number;
  /** The status' `started` flag as last computed by the probe manager. */
  readonly started: boolean;
}

export type WorkerPhase = 'idle' | 'probing' | 'stopped';

export interface WorkerState {
  readonly probeType: ProbeType;
  readonly spec: EffectiveProbe;
  /** Last container ID seen; null before the first one. */
  readonly containerId: string | null;
  /** Last handler result and how many times in a row it came back (reset only when held). */
  readonly lastResult: ProbeResult;
  readonly resultRun: number;
  /** Held workers skip iterations until a new container ID shows up. */
  readonly onHold: boolean;
  readonly phase: WorkerPhase;
  /** A stop that arrived while the handler was running; honoured when it completes. */
  readonly stopRequested: boolean;
}

export type WorkerEvent =
  | { readonly kind: 'iterate'; readonly observation: WorkerObservation }
  | { readonly kind: 'probeCompleted'; readonly outcome: ProbeOutcome }
  | { readonly kind: 'stop' };

export type WorkerExitReason = 'podTerminal' | 'containerWillNotRestart' | 'podDeleting' | 'stopped';

export type WorkerEffect =
  | { readonly kind: 'setResult'; readonly containerId: string; readonly result: ProbeResult }
  | { readonly kind: 'removeResult'; readonly containerId: string }
  | { readonly kind: 'runProbe'; readonly containerId: string }
  /** Skipped for initialDelaySeconds, which elapses at `until` (a scheduling hint for the shell). */
  | { readonly kind: 'initialDelay'; readonly until: number }
  | { readonly kind: 'exit'; readonly reason: WorkerExitReason };

export interface WorkerStep {
  readonly state: WorkerState;
  readonly effects: readonly WorkerEffect[];
}

/** A fresh worker, as `newWorker` creates it when the pod is first synced. */
export function newWorkerState(probeType: ProbeType, spec: EffectiveProbe): WorkerState {
  return {
    probeType,
    spec,
    containerId: null,
    // Go's zero value of results.Result is Success; with resultRun 0 it is never observable.
    lastResult: 'Success',
    resultRun: 0,
    onHold: false,
    phase: 'idle',
    stopRequested: false,
  };
}

const NO_EFFECTS: readonly WorkerEffect[] = [];

/** Advances one worker by one event. Pure: the input state is never modified. */
export function stepWorker(state: WorkerState, event: WorkerEvent): WorkerStep {
  switch (event.kind) {
    case 'iterate':
      return iterate(state, event.observation);
    case 'probeCompleted':
      return complete(state, event.outcome);
    case 'stop':
      if (state.phase === 'stopped') return { state, effects: NO_EFFECTS };
      if (state.phase === 'probing') return { state: { ...state, stopRequested: true }, effects: NO_EFFECTS };
      return exit(state, [], 'stopped');
  }
}

function iterate(state: WorkerState, obs: WorkerObservation): WorkerStep {
  if (state.phase === 'stopped') return { state, effects: NO_EFFECTS };
  if (state.phase === 'probing') throw new Error(`${state.probeType} worker: iterate while its probe is still running`);

  // 1. No status yet: wait. Terminal pod: done.
  if (obs.podPhase === null) return { state, effects: NO_EFFECTS };
  if (obs.podPhase === 'Failed' || obs.podPhase === 'Succeeded') return exit(state, [], 'podTerminal');

  // 2. No container (ID) yet: wait.
  const c = obs.container;
  if (c === null || c.containerId === '') return { state, effects: NO_EFFECTS };

  // 3. A new container: forget the old ID's result, seed the new one, resume if held.
  //    lastResult/resultRun deliberately survive (semantics §2.6).
  let next = state;
  const effects: WorkerEffect[] = [];
  if (state.containerId !== c.containerId) {
    if (state.containerId !== null) effects.push({ kind: 'removeResult', containerId: state.containerId });
    effects.push({ kind: 'setResult', containerId: c.containerId, result: INITIAL_RESULT[state.probeType] });
    next = { ...state, containerId: c.containerId, onHold: false };
  }
  const id = c.containerId;

  // 4. Held until a new container.
  if (next.onHold) return { state: next, effects };

  // 5. Not running: cache Failure; exit when the container terminated for good.
  if (c.state !== 'running') {
    effects.push({ kind: 'setResult', containerId: id, result: 'Failure' });
    if (c.state === 'terminated' && obs.restartPolicy === 'Never') return exit(next, effects, 'containerWillNotRestart');
    return { state: next, effects };
  }

  // 6. Graceful deletion: liveness and startup go quiet with a Success and stop.
  if (obs.podDeleting && (next.probeType === 'liveness' || next.probeType === 'startup')) {
    effects.push({ kind: 'setResult', containerId: id, result: 'Success' });
    return exit(next, effects, 'podDeleting');
  }

  // 7. initialDelaySeconds is a skip condition on whole elapsed seconds since the container started.
  const startedAt = c.startedAt ?? obs.now;
  if (Math.trunc(obs.now - startedAt) < next.spec.initialDelaySeconds) {
    effects.push({ kind: 'initialDelay', until: startedAt + next.spec.initialDelaySeconds });
    return { state: next, effects };
  }

  // 8. Startup gating: the startup probe runs only until started, the others only after.
  if (c.started === (next.probeType === 'startup')) return { state: next, effects };

  // 9. Run the handler (the shell does it and reports back).
  effects.push({ kind: 'runProbe', containerId: id });
  return { state: { ...next, phase: 'probing' }, effects };
}

function complete(state: WorkerState, outcome: ProbeOutcome): WorkerStep {
  if (state.phase !== 'probing') throw new Error(`${state.probeType} worker: probe result without a running probe`);
  const idle: WorkerState = { ...state, phase: 'idle' };
  const finish = (s: WorkerState, effects: WorkerEffect[]): WorkerStep =>
    s.stopRequested ? exit(s, effects, 'stopped') : { state: s, effects };

  // 9. A prober error is thrown away: no counting, no state change.
  if (outcome === 'error') return finish(idle, []);

  // 10. Count runs of the same result; below the threshold the cached result stays as it is.
  const result: ProbeResult = outcome === 'success' ? 'Success' : 'Failure';
  const resultRun = idle.lastResult === result ? idle.resultRun + 1 : 1;
  let next: WorkerState = { ...idle, lastResult: result, resultRun };
  const threshold = result === 'Success' ? next.spec.successThreshold : next.spec.failureThreshold;
  if (resultRun < threshold) return finish(next, []);

  // 11. Cache it (the cache itself only notifies on change).
  const id = next.containerId as string;
  const effects: WorkerEffect[] = [{ kind: 'setResult', containerId: id, result }];

  // 12. Liveness failure (container gets killed) or any startup verdict: hold until a new container.
  if ((next.probeType === 'liveness' && result === 'Failure') || next.probeType === 'startup') {
    next = { ...next, onHold: true, resultRun: 0 };
  }
  return finish(next, effects);
}

function exit(state: WorkerState, effects: WorkerEffect[], reason: WorkerExitReason): WorkerStep {
  // Upstream cleanup on exit drops the worker's cached result for its last container.
  if (state.containerId !== null) effects.push({ kind: 'removeResult', containerId: state.containerId });
  effects.push({ kind: 'exit', reason });
  return { state: { ...state, phase: 'stopped', stopRequested: false }, effects };
}
