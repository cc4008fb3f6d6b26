import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../util/invalid-input.js';
import { simulateProbes, type ProbeScenarioEvent } from './simulate.js';

const start = (t: number, containerId: string): ProbeScenarioEvent => ({ t, kind: 'containerStart', containerId });
const exit = (t: number, exitCode = 1): ProbeScenarioEvent => ({ t, kind: 'containerExit', exitCode });
const tick = (t: number, probe: 'liveness' | 'readiness' | 'startup', outcome: 'success' | 'failure' | 'error'): ProbeScenarioEvent => ({
  t,
  kind: 'tick',
  probe,
  outcome,
});

describe('simulateProbes', () => {
  it('reports the defaulted timing fields of every defined probe', () => {
    const out = simulateProbes({ restartPolicy: 'Always', probes: { readiness: { periodSeconds: 5 }, liveness: {} }, events: [] });
    expect(out.effectiveProbes).toEqual({
      liveness: { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
      readiness: { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    });
  });

  it('does nothing before the container exists, then seeds the initial value per probe type', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: {}, readiness: {}, startup: {} },
      events: [tick(0, 'liveness', 'success'), start(1, 'c1'), tick(1, 'liveness', 'success'), tick(1, 'readiness', 'success'), tick(1, 'startup', 'error')],
    });
    expect(out.results).toEqual([
      { t: 1, probe: 'liveness', containerId: 'c1', result: 'Success' },
      { t: 1, probe: 'readiness', containerId: 'c1', result: 'Failure' },
      { t: 1, probe: 'startup', containerId: 'c1', result: 'Unknown' },
    ]);
    // Liveness and readiness are gated until startup succeeds; the startup error is discarded.
    expect(out.executed).toEqual([{ t: 1, probe: 'startup', outcome: 'error' }]);
    expect(out.ready).toEqual([]);
  });

  it('kills after failureThreshold consecutive liveness failures and holds the worker until a new container', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: { failureThreshold: 2 } },
      events: [
        start(0, 'c1'),
        tick(10, 'liveness', 'failure'),
        tick(20, 'liveness', 'failure'),
        tick(30, 'liveness', 'failure'),
        exit(31, 137),
        start(31, 'c2'),
        tick(40, 'liveness', 'failure'),
      ],
    });
    expect(out.kills).toEqual([{ t: 20, containerId: 'c1', reason: 'LivenessProbe', willRestart: true }]);
    expect(out.executed.map((e) => e.t)).toEqual([10, 20, 40]);
    expect(out.results).toContainEqual({ t: 40, probe: 'liveness', containerId: 'c2', result: 'Success' });
  });

  it('marks a container without readiness probe ready as soon as it runs, and not ready when it exits', () => {
    const out = simulateProbes({ restartPolicy: 'Always', probes: {}, events: [start(3, 'c1'), exit(9)] });
    expect(out.ready).toEqual([
      { t: 3, ready: true },
      { t: 9, ready: false },
    ]);
  });

  it('keeps readiness run counters across container restarts (semantics §2.6)', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { readiness: { successThreshold: 3 } },
      events: [
        start(0, 'c1'),
        tick(1, 'readiness', 'success'),
        tick(2, 'readiness', 'success'),
        tick(3, 'readiness', 'success'),
        exit(4),
        start(5, 'c2'),
        tick(6, 'readiness', 'success'),
      ],
    });
    expect(out.ready).toEqual([
      { t: 3, ready: true },
      { t: 4, ready: false },
      { t: 6, ready: true },
    ]);
  });

  it('carries a liveness failure run over a crash the container made on its own (semantics §2.6)', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: { failureThreshold: 3 } },
      events: [start(0, 'c1'), tick(10, 'liveness', 'failure'), tick(20, 'liveness', 'failure'), exit(25), start(26, 'c2'), tick(30, 'liveness', 'failure')],
    });
    expect(out.kills).toEqual([{ t: 30, containerId: 'c2', reason: 'LivenessProbe', willRestart: true }]);
  });

  it('caches Failure for an exited container at every non-held worker\'s next tick, without killing anything', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: {}, readiness: {} },
      events: [start(0, 'c1'), tick(1, 'liveness', 'success'), tick(1, 'readiness', 'success'), exit(2), tick(3, 'liveness', 'success'), tick(3, 'readiness', 'success')],
    });
    expect(out.results.filter((r) => r.t === 3)).toEqual([
      { t: 3, probe: 'liveness', containerId: 'c1', result: 'Failure' },
      { t: 3, probe: 'readiness', containerId: 'c1', result: 'Failure' },
    ]);
    expect(out.kills).toEqual([]);
    expect(out.executed.filter((e) => e.t === 3)).toEqual([]);
  });

  it('leaves readiness at Failure and liveness at Success forever when every probe errors', () => {
    const events: ProbeScenarioEvent[] = [start(0, 'c1')];
    for (let t = 10; t <= 100; t += 10) events.push(tick(t, 'liveness', 'error'), tick(t, 'readiness', 'error'));
    const out = simulateProbes({ restartPolicy: 'Always', probes: { liveness: { failureThreshold: 1 }, readiness: {} }, events });
    expect(out.results).toEqual([
      { t: 10, probe: 'liveness', containerId: 'c1', result: 'Success' },
      { t: 10, probe: 'readiness', containerId: 'c1', result: 'Failure' },
    ]);
    expect(out.executed).toHaveLength(20);
    expect(out.ready).toEqual([]);
    expect(out.kills).toEqual([]);
  });

  it('kills on a startup failure streak and reports no restart under restartPolicy Never', () => {
    const out = simulateProbes({
      restartPolicy: 'Never',
      probes: { startup: { failureThreshold: 2 } },
      events: [start(0, 'c1'), tick(5, 'startup', 'failure'), tick(10, 'startup', 'failure'), tick(15, 'startup', 'failure')],
    });
    expect(out.kills).toEqual([{ t: 10, containerId: 'c1', reason: 'StartupProbe', willRestart: false }]);
    expect(out.executed).toHaveLength(2);
  });

  it('stops liveness and startup on deletion and readiness once the container has exited', () => {
    const out = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: {}, readiness: {}, startup: {} },
      events: [start(0, 'c1'), { t: 5, kind: 'deletePod' }, tick(6, 'readiness', 'success'), exit(8, 0)],
    });
    expect(out.workersStopped).toEqual([
      { t: 5, probe: 'liveness' },
      { t: 5, probe: 'startup' },
      { t: 8, probe: 'readiness' },
    ]);
    // With the startup worker gone the container counts as started, so readiness runs.
    expect(out.executed).toEqual([{ t: 6, probe: 'readiness', outcome: 'success' }]);
    expect(out.ready).toEqual([
      { t: 6, ready: true },
      { t: 8, ready: false },
    ]);
  });

  it('ends every worker at its next tick once a Never pod is terminal', () => {
    const out = simulateProbes({
      restartPolicy: 'Never',
      probes: { liveness: {}, readiness: {} },
      events: [start(0, 'c1'), tick(1, 'liveness', 'success'), exit(2, 1), tick(3, 'liveness', 'success'), tick(4, 'readiness', 'success'), tick(5, 'readiness', 'success')],
    });
    expect(out.workersStopped).toEqual([
      { t: 3, probe: 'liveness' },
      { t: 4, probe: 'readiness' },
    ]);
  });

  it('rejects histories the kubelet cannot produce, naming the event field', () => {
    const bad = (events: unknown[], restartPolicy = 'Always') => () =>
      simulateProbes({ restartPolicy, probes: { liveness: {} }, events } as never);
    expect(bad([start(0, 'c1'), start(1, 'c2')])).toThrow('events[1].kind: containerStart while container c1 is still running');
    expect(bad([start(0, 'c1'), exit(1), start(2, 'c1')])).toThrow('events[2].containerId');
    expect(bad([start(5, 'c1'), exit(1)])).toThrow('events[1].t: must not be earlier');
    expect(bad([start(0, 'c1'), exit(1, 0), start(2, 'c2')], 'OnFailure')).toThrow('events[2].kind: containerStart after the pod became Succeeded');
    expect(bad([{ t: 0, kind: 'tick', probe: 'readiness', outcome: 'success' }])).toThrow('events[0].probe: the scenario defines no readiness probe');
    expect(bad([{ t: 0, kind: 'tick', probe: 'liveness', outcome: 'ok' }])).toThrow(InvalidInputError);
    expect(bad([start(0, 'c1'), { t: 1, kind: 'containerExit' }])).toThrow('events[1].exitCode: must be a finite number, got nothing');
    expect(() => simulateProbes({ restartPolicy: 'Always', probes: { liveness: { successThreshold: 2 } }, events: [] })).toThrow(
      'probes.liveness.successThreshold: must be 1 for liveness probes, got 2',
    );
  });
});
