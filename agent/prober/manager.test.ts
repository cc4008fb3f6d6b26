import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ProbeManager, type WorkerKey } from './manager.js';
import type { ResultUpdate } from './results-cache.js';

const pod: V1Pod = {
  metadata: { uid: 'u1' },
  spec: {
    initContainers: [
      { name: 'init', readinessProbe: {} },
      { name: 'sidecar', restartPolicy: 'Always', startupProbe: {}, livenessProbe: {} },
    ],
    containers: [{ name: 'app', readinessProbe: { successThreshold: 1 } }, { name: 'plain' }],
  },
};

const key = (containerName: string, probeType: WorkerKey['probeType']): WorkerKey => ({ podUid: 'u1', containerName, probeType });

describe('ProbeManager', () => {
  it('creates one worker per probe of regular and sidecar containers, never for regular init containers', () => {
    const m = new ProbeManager();
    expect(m.addPod(pod)).toEqual([key('sidecar', 'liveness'), key('sidecar', 'startup'), key('app', 'readiness')]);
    expect(m.addPod(pod)).toEqual([]);
    expect(m.workerCount).toBe(3);
  });

  it('names the field of an invalid probe', () => {
    const bad: V1Pod = { metadata: { uid: 'u2' }, spec: { containers: [{ name: 'a' }, { name: 'b', livenessProbe: { successThreshold: 3 } }] } };
    expect(() => new ProbeManager().addPod(bad)).toThrow('spec.containers[1].livenessProbe.successThreshold: must be 1');
  });

  it('notifies subscribers of added or changed results only', () => {
    const m = new ProbeManager();
    m.addPod(pod);
    const seen: ResultUpdate[] = [];
    m.caches.readiness.subscribe((u) => seen.push(u));
    const obs = (now: number) => ({
      now,
      podPhase: 'Running' as const,
      container: { containerId: 'x', state: 'running' as const, startedAt: 0, started: true },
      restartPolicy: 'Always' as const,
      podDeleting: false,
    });
    for (const t of [1, 2, 3]) {
      if (m.iterate(key('app', 'readiness'), obs(t)).runProbe !== null) m.completeProbe(key('app', 'readiness'), 'success');
    }
    expect(seen).toEqual([
      { probeType: 'readiness', podUid: 'u1', containerId: 'x', result: 'Failure' },
      { probeType: 'readiness', podUid: 'u1', containerId: 'x', result: 'Success' },
    ]);
  });

  it('derives started and ready like UpdatePodStatus', () => {
    const m = new ProbeManager();
    m.addPod(pod);
    expect(m.containerStatus('u1', 'plain', { containerId: 'p', running: true })).toEqual({ started: true, ready: true, triggerReadiness: false });
    expect(m.containerStatus('u1', 'app', { containerId: 'a', running: true })).toEqual({ started: true, ready: false, triggerReadiness: true });
    expect(m.containerStatus('u1', 'sidecar', { containerId: 's', running: true }).started).toBe(false);
    m.caches.startup.set('s', 'Success', 'u1');
    expect(m.containerStatus('u1', 'sidecar', { containerId: 's', running: true })).toEqual({ started: true, ready: true, triggerReadiness: false });
    expect(m.containerStatus('u1', 'sidecar', { containerId: 's', running: false }).started).toBe(false);
  });

  it('stops liveness and startup first, then the rest, and cleans up pods not desired', () => {
    const m = new ProbeManager();
    m.addPod(pod);
    m.addPod({ metadata: { uid: 'u3' }, spec: { containers: [{ name: 'c', livenessProbe: {} }] } });
    expect(m.stopLivenessAndStartup('u1').map((s) => [s.key.probeType, s.result.exited])).toEqual([
      ['liveness', 'stopped'],
      ['startup', 'stopped'],
    ]);
    expect(m.removePod('u1').map((s) => s.key.probeType)).toEqual(['readiness']);
    expect(m.cleanupPods(new Set(['u1'])).map((s) => s.key.podUid)).toEqual(['u3']);
    expect(m.workerCount).toBe(0);
  });
});
