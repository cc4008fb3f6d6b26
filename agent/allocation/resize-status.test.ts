import type { V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { container, ctr, runtime, sandbox } from '../kuberuntime/test-fixtures.js';
import { appliedResources, applyResizeStatus } from './resize-status.js';

const allocated = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } };
const MI = 1024 * 1024;

describe('resize fields of the pod status', () => {
  it('keeps the allocated spelling where the runtime applied exactly that', () => {
    expect(appliedResources(allocated, { cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitInBytes: 128 * MI }, 'app')).toEqual(allocated);
  });

  it('reads the values back from the runtime where they differ from the allocation', () => {
    expect(appliedResources(allocated, { cpuShares: 307, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitInBytes: 256 * MI }, 'app')).toEqual({
      requests: { cpu: '300m', memory: '64Mi' },
      limits: { cpu: '500m', memory: '256Mi' },
    });
  });

  it('shows the allocation when the runtime reports nothing', () => {
    expect(appliedResources(allocated, undefined, 'app')).toEqual(allocated);
  });

  it('sets allocatedResources and resources on running containers and replaces the resize conditions', () => {
    const app = container('app', { resources: allocated });
    const rt = runtime([sandbox()], [ctr(app, 'running', { resources: { cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitInBytes: 128 * MI } })]);
    const status: V1PodStatus = {
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'x', imageID: 'y', state: { running: {} } }],
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'PodResizePending', status: 'True', reason: 'Deferred' },
      ],
    };
    const since = new Date(0);
    applyResizeStatus(status, new Map([['app', allocated]]), rt, [{ type: 'PodResizeInProgress', status: 'True', lastTransitionTime: since, observedGeneration: 2 }]);
    expect(status.containerStatuses?.[0]?.allocatedResources).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(status.containerStatuses?.[0]?.resources).toEqual(allocated);
    expect(status.conditions).toEqual([
      { type: 'Ready', status: 'True' },
      { type: 'PodResizeInProgress', status: 'True', lastTransitionTime: since, observedGeneration: 2 },
    ]);
  });
});
