import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ProbeManager, firstIterationDelaySeconds, nextIterationAt, simulateProbes, type ProbeScenarioEvent, type WorkerKey } from '../agent/prober/index.js';
import { killGracePeriodSeconds } from '../agent/lifecycle/kill-grace-period.js';

/**
 * Known upstream kubelet bugs, each asserting the behaviour the fix (or the documentation) promises.
 * Facts from the upstream threads are summarised in each describe block.
 */

const start = (t: number, containerId: string): ProbeScenarioEvent => ({ t, kind: 'containerStart', containerId });
const exit = (t: number, exitCode: number): ProbeScenarioEvent => ({ t, kind: 'containerExit', exitCode });
const tick = (t: number, probe: 'liveness' | 'readiness' | 'startup', outcome: 'success' | 'failure'): ProbeScenarioEvent => ({ t, kind: 'tick', probe, outcome });

describe('kubernetes #101064: startupProbe must run again after a container restart', () => {
  // 1.21.0 regression: after a liveness restart the startup probe was skipped and liveness probed the
  // new, still-booting container at once, killing it in a loop (fixed by #101093).
  const out = simulateProbes({
    restartPolicy: 'Always',
    probes: { startup: { failureThreshold: 30 }, liveness: { failureThreshold: 1 } },
    events: [
      start(0, 'c1'),
      tick(10, 'startup', 'success'),
      tick(20, 'liveness', 'failure'),
      exit(21, 137),
      start(22, 'c2'),
      tick(30, 'liveness', 'failure'), // booting: must be gated by the startup probe
      tick(30, 'startup', 'failure'),
      tick(40, 'liveness', 'failure'),
      tick(40, 'startup', 'success'),
      tick(50, 'liveness', 'success'),
    ],
  });

  it('gates liveness on the new container until its startup probe succeeds', () => {
    expect(out.executed).toEqual([
      { t: 10, probe: 'startup', outcome: 'success' },
      { t: 20, probe: 'liveness', outcome: 'failure' },
      { t: 30, probe: 'startup', outcome: 'failure' },
      { t: 40, probe: 'startup', outcome: 'success' },
      { t: 50, probe: 'liveness', outcome: 'success' },
    ]);
    expect(out.kills).toEqual([{ t: 20, containerId: 'c1', reason: 'LivenessProbe', willRestart: true }]);
  });

  it('starts the new container with an Unknown startup result', () => {
    expect(out.results).toContainEqual({ t: 30, probe: 'startup', containerId: 'c2', result: 'Unknown' });
    expect(out.results).toContainEqual({ t: 40, probe: 'startup', containerId: 'c2', result: 'Success' });
  });
});

describe('kubernetes #53530: the liveness failure count is reset by a liveness restart', () => {
  // The worker kept resultRun at failureThreshold across the restart, so one failure on the new
  // container killed it again (fixed by #46371: resultRun = 0 when the worker goes on hold).
  const out = simulateProbes({
    restartPolicy: 'Always',
    probes: { liveness: { failureThreshold: 3 } },
    events: [
      start(0, 'c1'),
      tick(10, 'liveness', 'failure'),
      tick(20, 'liveness', 'failure'),
      tick(30, 'liveness', 'failure'),
      exit(31, 137),
      start(31, 'c2'),
      tick(40, 'liveness', 'failure'),
      tick(50, 'liveness', 'failure'),
      tick(60, 'liveness', 'failure'),
    ],
  });

  it('needs failureThreshold fresh failures before killing the restarted container', () => {
    expect(out.kills).toEqual([
      { t: 30, containerId: 'c1', reason: 'LivenessProbe', willRestart: true },
      { t: 60, containerId: 'c2', reason: 'LivenessProbe', willRestart: true },
    ]);
  });
});

describe('kubernetes #118396: the first probe comes at initialDelaySeconds, not a period later', () => {
  // readinessProbe { initialDelaySeconds: 90, periodSeconds: 3600 } on a freshly provisioned node: the
  // pod took up to ~40 min to become ready, because the worker slept a random part of the period (the
  // kubelet was young) and then only probed on period ticks. Expected: "readiness probe should start
  // after 90 seconds every time the pod is scheduled".
  const spec = { initialDelaySeconds: 90, periodSeconds: 3600 };

  /** The running prober's loop reduced to the pure pieces it uses; returns when readiness first ran. */
  function firstReadinessProbe(options: { kubeletUptimeSeconds: number; containerStartsAt: number; runningAtKubeletStart: boolean; random: number }): number {
    const manager = new ProbeManager();
    const pod: V1Pod = { metadata: { uid: 'p' }, spec: { containers: [{ name: 'app', readinessProbe: spec }] } };
    manager.addPod(pod);
    const key: WorkerKey = { podUid: 'p', containerName: 'app', probeType: 'readiness' };
    const observe = (now: number) => ({
      now,
      podPhase: 'Running' as const,
      container: now >= options.containerStartsAt ? { containerId: 'c1', state: 'running' as const, startedAt: options.containerStartsAt, started: true } : null,
      restartPolicy: 'Always' as const,
      podDeleting: false,
    });
    let next = firstIterationDelaySeconds({
      periodSeconds: spec.periodSeconds,
      kubeletUptimeSeconds: options.kubeletUptimeSeconds,
      containerRunningAtKubeletStart: options.runningAtKubeletStart,
      random: options.random,
    });
    // A container created after the worker wakes it when it starts (the shell watches container IDs).
    let wakeAt: number | null = options.containerStartsAt > 0 ? options.containerStartsAt : null;
    for (let i = 0; i < 100; i++) {
      if (wakeAt !== null && wakeAt < next) [next, wakeAt] = [wakeAt, null];
      const result = manager.iterate(key, observe(next));
      if (result.runProbe !== null) {
        manager.completeProbe(key, 'success');
        return next;
      }
      next = nextIterationAt(next, spec.periodSeconds, result.initialDelayUntil);
    }
    throw new Error('readiness never ran');
  }

  it('probes a new pod on a new node exactly when the initial delay elapses', () => {
    expect(firstReadinessProbe({ kubeletUptimeSeconds: 0, containerStartsAt: 7, runningAtKubeletStart: false, random: 0.99 })).toBe(97);
  });

  it('spreads containers that were already running when the kubelet restarted over at most one period', () => {
    const t = firstReadinessProbe({ kubeletUptimeSeconds: 0, containerStartsAt: -1000, runningAtKubeletStart: true, random: 0.5 });
    expect(t).toBe(1800);
    expect(firstReadinessProbe({ kubeletUptimeSeconds: 4000, containerStartsAt: -1000, runningAtKubeletStart: true, random: 0.5 })).toBe(0);
  });
});

describe('kubernetes #118172: a negative eviction-max-pod-grace-period defers to the pod', () => {
  // Documented as "If negative, defer to pod specified value", but min(-1, pod grace) = -1 went to the
  // runtime and soft-evicted pods were SIGKILLed at once (exit 137).
  const pod = (terminationGracePeriodSeconds?: number): V1Pod => ({
    spec: { containers: [], ...(terminationGracePeriodSeconds === undefined ? {} : { terminationGracePeriodSeconds }) },
  });

  it('uses the pod terminationGracePeriodSeconds for a soft eviction when the max is negative', () => {
    expect(killGracePeriodSeconds(pod(45), { eviction: 'soft', maxPodGracePeriodSeconds: -1 })).toBe(45);
    expect(killGracePeriodSeconds(pod(), { eviction: 'soft', maxPodGracePeriodSeconds: -1 })).toBe(30);
  });

  it('still caps by a non-negative max and still kills hard evictions fast', () => {
    expect(killGracePeriodSeconds(pod(45), { eviction: 'soft', maxPodGracePeriodSeconds: 20 })).toBe(20);
    expect(killGracePeriodSeconds(pod(45), { eviction: 'hard' })).toBe(1);
  });
});
