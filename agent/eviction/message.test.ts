import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseQuantity } from '../resources/quantity.js';
import { evictionMessage } from './message.js';

const Mi = 1n << 20n;

const pod: V1Pod = {
  metadata: { name: 'web' },
  spec: {
    containers: [
      { name: 'app', resources: { requests: { memory: '100Mi', 'ephemeral-storage': '1Gi' } } },
      { name: 'helper' },
    ],
    initContainers: [{ name: 'sidecar', restartPolicy: 'Always', resources: { requests: { memory: '10Mi' } } }],
  },
};

describe('evictionMessage', () => {
  it('names the threshold and every container using more than it requested', () => {
    const { message, annotations } = evictionMessage({
      resource: 'memory',
      pod,
      stats: {
        containers: [
          { name: 'app', memoryWorkingSetBytes: 300n * Mi },
          { name: 'helper', memoryWorkingSetBytes: 5n * Mi },
          { name: 'sidecar', memoryWorkingSetBytes: 5n * Mi },
        ],
      },
      thresholdQuantity: parseQuantity('100Mi'),
      available: parseQuantity('50Mi'),
    });
    expect(message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. ' +
        'Container app was using 300Mi, request is 100Mi, has larger consumption of memory. ' +
        'Container helper was using 5Mi, request is 0, has larger consumption of memory. ',
    );
    expect(annotations).toEqual({
      offending_containers: 'app,helper',
      offending_containers_usage: '300Mi,5Mi',
      starved_resource: 'memory',
    });
  });

  it('counts rootfs plus logs for ephemeral storage, only when both are known', () => {
    const { message } = evictionMessage({
      resource: 'ephemeral-storage',
      pod,
      stats: { containers: [{ name: 'app', rootfsBytes: 1000n * Mi, logsBytes: 100n * Mi }, { name: 'helper', rootfsBytes: 5n * Mi }] },
    });
    expect(message).toBe('The node was low on resource: ephemeral-storage. Container app was using 1100Mi, request is 1Gi, has larger consumption of ephemeral-storage. ');
  });

  it('stops after the threshold sentence when the pod has no stats', () => {
    expect(evictionMessage({ resource: 'memory', pod, stats: null })).toEqual({ message: 'The node was low on resource: memory. ', annotations: {} });
  });

  it('adds the pod-level sentence when pod-level memory requests are set', () => {
    const withPodLevel: V1Pod = { ...pod, spec: { ...pod.spec!, resources: { requests: { memory: '256Mi' } } } };
    const { message, annotations } = evictionMessage({ resource: 'memory', pod: withPodLevel, stats: { memoryWorkingSetBytes: 512n * Mi, containers: [] } });
    expect(message).toBe('The node was low on resource: memory. Pod web was using 512Mi, request is 256Mi, has larger consumption of memory. ');
    expect(annotations.offending_pod_usage).toBe('512Mi');
  });
});
