import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { container, pod } from '../kuberuntime/test-fixtures.js';
import { allocationFromPod, podWithAllocation, resizeEventMessage, resizeFeasibility, resizeRequested } from './allocation.js';

function withApp(requests: Record<string, string>, limits: Record<string, string> = {}, uid = 'uid-1'): V1Pod {
  return pod({ containers: [container('app', { resources: { requests, limits } })] }, { uid, name: uid });
}

describe('pod allocation', () => {
  it('allocates the spec resources of regular containers and sidecars, not of regular init containers', () => {
    const p = pod({
      initContainers: [container('setup', { resources: { requests: { cpu: '1' } } }), container('side', { restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } })],
      containers: [container('app', { resources: { requests: { cpu: '100m' } } })],
    });
    expect([...allocationFromPod(p)]).toEqual([
      ['side', { requests: { cpu: '50m' } }],
      ['app', { requests: { cpu: '100m' } }],
    ]);
  });

  it('compares quantities by value, so 1 and 1000m are no resize', () => {
    const allocation = allocationFromPod(withApp({ cpu: '1' }));
    expect(resizeRequested(withApp({ cpu: '1000m' }), allocation)).toBe(false);
    expect(resizeRequested(withApp({ cpu: '1500m' }), allocation)).toBe(true);
    expect(resizeRequested(withApp({ cpu: '1' }, { cpu: '2' }), allocation)).toBe(true);
  });

  it('puts the allocation in place of the spec resources, returning the same pod when nothing differs', () => {
    const admitted = withApp({ cpu: '100m' });
    const allocation = allocationFromPod(admitted);
    const same = withApp({ cpu: '100m' });
    expect(podWithAllocation(same, allocation)).toBe(same);
    const asked = withApp({ cpu: '300m' });
    const run = podWithAllocation(asked, allocation);
    expect(run.spec?.containers[0]?.resources).toEqual({ requests: { cpu: '100m' }, limits: {} });
    expect(asked.spec?.containers[0]?.resources?.requests).toEqual({ cpu: '300m' });
  });
});

describe('resize feasibility', () => {
  const allocatable = { cpu: '4', memory: '8Gi', pods: '110' };

  it('is Infeasible beyond allocatable, memory checked before cpu, in bytes and millicores', () => {
    expect(resizeFeasibility({ pod: withApp({ cpu: '5', memory: '9Gi' }), otherPods: [], allocatable })).toEqual({
      fit: false,
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: memory, requested: 9663676416, capacity: 8589934592",
    });
    expect(resizeFeasibility({ pod: withApp({ cpu: '5' }), otherPods: [], allocatable })).toEqual({
      fit: false,
      reason: 'Infeasible',
      message: "Node didn't have enough capacity: cpu, requested: 5000, capacity: 4000",
    });
  });

  it('is Deferred when it fits the node but not next to the other pods, and fits otherwise', () => {
    const other = withApp({ cpu: '3' }, {}, 'other');
    expect(resizeFeasibility({ pod: withApp({ cpu: '1500m' }), otherPods: [other], allocatable })).toEqual({
      fit: false,
      reason: 'Deferred',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 3000, capacity: 4000",
    });
    expect(resizeFeasibility({ pod: withApp({ cpu: '1' }), otherPods: [other], allocatable })).toEqual({ fit: true });
  });

  it('writes the event body as upstream: containers with resources, generation, error', () => {
    expect(resizeEventMessage('Pod resize Infeasible', withApp({ cpu: '5' }), 3, 'no room')).toBe(
      'Pod resize Infeasible: {"containers":[{"name":"app","resources":{"requests":{"cpu":"5"},"limits":{}}}],"generation":3,"error":"no room"}',
    );
  });
});
