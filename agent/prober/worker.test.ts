import { describe, expect, it } from 'vitest';
import { newWorkerState, stepWorker, type WorkerObservation, type WorkerState } from './worker.js';
import type { EffectiveProbe, ProbeType } from './types.js';

const spec = (overrides: Partial<EffectiveProbe> = {}): EffectiveProbe => ({
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  ...overrides,
});

const running = (now: number, overrides: Partial<WorkerObservation> = {}, started = true): WorkerObservation => ({
  now,
  podPhase: 'Running',
  container: { containerId: 'c1', state: 'running', startedAt: 0, started },
  restartPolicy: 'Always',
  podDeleting: false,
  ...overrides,
});

function probeOnce(state: WorkerState, obs: WorkerObservation, outcome: 'success' | 'failure' | 'error') {
  const begun = stepWorker(state, { kind: 'iterate', observation: obs });
  expect(begun.effects.at(-1)?.kind).toBe('runProbe');
  const done = stepWorker(begun.state, { kind: 'probeCompleted', outcome });
  return { state: done.state, effects: [...begun.effects, ...done.effects] };
}

describe('probe worker step', () => {
  it('waits without effects while the pod has no status or the container no ID', () => {
    const w = newWorkerState('readiness', spec());
    expect(stepWorker(w, { kind: 'iterate', observation: running(0, { podPhase: null }) }).effects).toEqual([]);
    expect(stepWorker(w, { kind: 'iterate', observation: running(0, { container: null }) }).effects).toEqual([]);
  });

  it('seeds the initial value for each probe type when it first sees a container', () => {
    const initial: Record<ProbeType, string> = { readiness: 'Failure', liveness: 'Success', startup: 'Unknown' };
    for (const type of ['readiness', 'liveness', 'startup'] as const) {
      const step = stepWorker(newWorkerState(type, spec({ initialDelaySeconds: 5 })), { kind: 'iterate', observation: running(0) });
      expect(step.effects[0]).toEqual({ kind: 'setResult', containerId: 'c1', result: initial[type] });
    }
  });

  it('exits on a terminal pod before anything else, dropping its cached result', () => {
    let w = newWorkerState('liveness', spec());
    w = stepWorker(w, { kind: 'iterate', observation: running(0) }).state;
    w = stepWorker(w, { kind: 'probeCompleted', outcome: 'success' }).state;
    const step = stepWorker(w, { kind: 'iterate', observation: running(1, { podPhase: 'Succeeded' }) });
    expect(step.effects).toEqual([
      { kind: 'removeResult', containerId: 'c1' },
      { kind: 'exit', reason: 'podTerminal' },
    ]);
    expect(stepWorker(step.state, { kind: 'iterate', observation: running(2) }).effects).toEqual([]);
  });

  it('caches Failure for a non-running container and exits only when it will not restart', () => {
    const exited = { containerId: 'c1', state: 'terminated' as const, started: false };
    const w = newWorkerState('readiness', spec());
    const always = stepWorker(w, { kind: 'iterate', observation: running(1, { container: exited }) });
    expect(always.effects.map((e) => e.kind)).toEqual(['setResult', 'setResult']);
    expect(always.state.phase).toBe('idle');
    const never = stepWorker(w, { kind: 'iterate', observation: running(1, { container: exited, restartPolicy: 'Never' }) });
    expect(never.effects.at(-1)).toEqual({ kind: 'exit', reason: 'containerWillNotRestart' });
  });

  it('stops liveness and startup quietly with Success when its pod object is being deleted', () => {
    const step = stepWorker(newWorkerState('startup', spec()), { kind: 'iterate', observation: running(1, { podDeleting: true }, false) });
    expect(step.effects).toEqual([
      { kind: 'setResult', containerId: 'c1', result: 'Unknown' },
      { kind: 'setResult', containerId: 'c1', result: 'Success' },
      { kind: 'removeResult', containerId: 'c1' },
      { kind: 'exit', reason: 'podDeleting' },
    ]);
    const readiness = stepWorker(newWorkerState('readiness', spec()), { kind: 'iterate', observation: running(1, { podDeleting: true }) });
    expect(readiness.effects.at(-1)).toEqual({ kind: 'runProbe', containerId: 'c1' });
  });

  it('checks initialDelaySeconds on whole elapsed seconds and says when it elapses', () => {
    const w = newWorkerState('readiness', spec({ initialDelaySeconds: 5 }));
    const early = stepWorker(w, { kind: 'iterate', observation: running(4.999) });
    expect(early.effects.at(-1)).toEqual({ kind: 'initialDelay', until: 5 });
    expect(stepWorker(early.state, { kind: 'iterate', observation: running(5) }).effects.at(-1)?.kind).toBe('runProbe');
  });

  it('gates: startup runs only before started, the others only after', () => {
    expect(stepWorker(newWorkerState('startup', spec()), { kind: 'iterate', observation: running(1, {}, true) }).effects.at(-1)?.kind).toBe('setResult');
    expect(stepWorker(newWorkerState('liveness', spec()), { kind: 'iterate', observation: running(1, {}, false) }).effects.at(-1)?.kind).toBe('setResult');
  });

  it('caches only at the threshold, then holds liveness with its run reset', () => {
    let w = newWorkerState('liveness', spec({ failureThreshold: 2 }));
    let r = probeOnce(w, running(1), 'failure');
    expect(r.effects.filter((e) => e.kind === 'setResult')).toEqual([{ kind: 'setResult', containerId: 'c1', result: 'Success' }]);
    r = probeOnce(r.state, running(2), 'failure');
    expect(r.effects.at(-1)).toEqual({ kind: 'setResult', containerId: 'c1', result: 'Failure' });
    expect(r.state).toMatchObject({ onHold: true, resultRun: 0, lastResult: 'Failure' });
    w = r.state;
    expect(stepWorker(w, { kind: 'iterate', observation: running(3) }).effects).toEqual([]);
    const next = stepWorker(w, { kind: 'iterate', observation: running(4, { container: { containerId: 'c2', state: 'running', startedAt: 3, started: true } }) });
    expect(next.state.onHold).toBe(false);
    expect(next.effects.map((e) => e.kind)).toEqual(['removeResult', 'setResult', 'runProbe']);
  });

  it('discards prober errors completely', () => {
    const w = newWorkerState('readiness', spec({ successThreshold: 2 }));
    const a = probeOnce(w, running(1), 'success');
    const b = probeOnce(a.state, running(2), 'error');
    expect(b.state).toEqual({ ...a.state });
    expect(b.effects.filter((e) => e.kind === 'setResult')).toEqual([]);
  });

  it('puts startup on hold after any verdict', () => {
    const r = probeOnce(newWorkerState('startup', spec()), running(1, {}, false), 'success');
    expect(r.state.onHold).toBe(true);
  });

  it('honours a stop that arrives while the handler runs once it completes', () => {
    const begun = stepWorker(newWorkerState('readiness', spec()), { kind: 'iterate', observation: running(1) });
    const stopped = stepWorker(begun.state, { kind: 'stop' });
    expect(stopped.effects).toEqual([]);
    const done = stepWorker(stopped.state, { kind: 'probeCompleted', outcome: 'success' });
    expect(done.effects).toEqual([
      { kind: 'setResult', containerId: 'c1', result: 'Success' },
      { kind: 'removeResult', containerId: 'c1' },
      { kind: 'exit', reason: 'stopped' },
    ]);
  });

  it('refuses events out of order', () => {
    const begun = stepWorker(newWorkerState('readiness', spec()), { kind: 'iterate', observation: running(1) });
    expect(() => stepWorker(begun.state, { kind: 'iterate', observation: running(2) })).toThrow('still running');
    expect(() => stepWorker(newWorkerState('readiness', spec()), { kind: 'probeCompleted', outcome: 'success' })).toThrow('without a running probe');
  });
});
