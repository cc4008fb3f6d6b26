import { describe, expect, it } from 'vitest';
import { fakeMachine } from './machine.js';
import { buildNodeStatus, initialNode, nodeStatusChanged, type NodeStatusInput } from './node-status.js';

const healthy = {
  reachable: true,
  runtimeReady: { status: true, reason: '', message: '' },
  networkReady: { status: true, reason: '', message: '' },
  version: 'fake://0.1.0',
};

function input(extra: Partial<NodeStatusInput> = {}): NodeStatusInput {
  return {
    machine: fakeMachine({ cpu: 4, memory: 8n * 1024n ** 3n, ephemeralStorage: 100n * 1024n ** 3n, hostname: 'node-a', address: '10.1.2.3' }),
    maxPods: 110,
    kubeletVersion: 'v1.34.0-harness',
    kubeletPort: 10250,
    runtime: healthy,
    pressure: { memory: false, disk: false, pid: false },
    previous: undefined,
    now: Date.UTC(2026, 0, 1),
    ...extra,
  };
}

describe('buildNodeStatus', () => {
  it('reports capacity from the machine and allocatable minus reservations and hard eviction', () => {
    const s = buildNodeStatus(input({ kubeReserved: { cpu: '500m', memory: '1Gi' }, systemReserved: { memory: '512Mi' }, evictionHard: { 'memory.available': '100Mi' } }));
    expect(s.capacity).toEqual({ cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', pods: '110' });
    expect(s.allocatable?.['cpu']).toBe('3500m');
    expect(s.allocatable?.['memory']).toBe('6556Mi');
    expect(s.allocatable?.['pods']).toBe('110');
  });

  it('shows the five conditions, Ready True with the kubelet reason when the runtime is healthy', () => {
    const s = buildNodeStatus(input());
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NetworkUnavailable', 'False', 'RuntimeNetworkReady'],
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
      ['Ready', 'True', 'KubeletReady'],
    ]);
    expect(s.nodeInfo?.containerRuntimeVersion).toBe('fake://0.1.0');
    expect(s.addresses).toEqual([{ type: 'InternalIP', address: '10.1.2.3' }, { type: 'Hostname', address: 'node-a' }]);
  });

  it('goes NotReady naming the runtime network and marks the network unavailable', () => {
    const s = buildNodeStatus(input({ runtime: { ...healthy, networkReady: { status: false, reason: 'NetworkPluginNotReady', message: 'cni plugin not initialized' } } }));
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized',
    });
    expect(s.conditions?.find((c) => c.type === 'NetworkUnavailable')).toMatchObject({ status: 'True', reason: 'NetworkPluginNotReady' });
    const down = buildNodeStatus(input({ runtime: { ...healthy, reachable: false } }));
    expect(down.conditions?.find((c) => c.type === 'Ready')?.message).toBe('container runtime is down');
  });

  it('moves heartbeat times on every update but transition times only on a status change', () => {
    const first = buildNodeStatus(input());
    const later = buildNodeStatus(input({ previous: first, now: Date.UTC(2026, 0, 1, 0, 0, 10) }));
    const ready = later.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.lastHeartbeatTime).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 0, 10)));
    expect(ready?.lastTransitionTime).toEqual(new Date(Date.UTC(2026, 0, 1)));
    expect(nodeStatusChanged(first, later)).toBe(false);
    const pressured = buildNodeStatus(input({ previous: later, now: Date.UTC(2026, 0, 1, 0, 0, 20), pressure: { memory: true, disk: false, pid: false } }));
    expect(pressured.conditions?.find((c) => c.type === 'MemoryPressure')?.lastTransitionTime).toEqual(new Date(Date.UTC(2026, 0, 1, 0, 0, 20)));
    expect(nodeStatusChanged(later, pressured)).toBe(true);
  });
});

describe('node status images', () => {
  it('carries the images it is given, an empty list included, and leaves the field out when images are not reported', () => {
    const images = [{ names: ['busybox@sha256:ab', 'busybox:1.36'], sizeBytes: 4_261_550 }];
    expect(buildNodeStatus(input({ images })).images).toEqual(images);
    expect(buildNodeStatus(input({ images: [] })).images).toEqual([]);
    expect(buildNodeStatus(input())).not.toHaveProperty('images');
  });

  it('counts a change in the image list as a status change to write', () => {
    const first = buildNodeStatus(input({ images: [{ names: ['a:1'], sizeBytes: 1 }] }));
    const same = buildNodeStatus(input({ previous: first, images: [{ names: ['a:1'], sizeBytes: 1 }] }));
    const pulled = buildNodeStatus(input({ previous: first, images: [{ names: ['b:1'], sizeBytes: 2 }, { names: ['a:1'], sizeBytes: 1 }] }));
    expect(nodeStatusChanged(first, same)).toBe(false);
    expect(nodeStatusChanged(first, pulled)).toBe(true);
  });
});

describe('initialNode', () => {
  it('registers with the well-known labels and configured taints', () => {
    const n = initialNode('node-a', fakeMachine(), { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] });
    expect(n.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux' });
    expect(n.spec?.taints).toEqual([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
  });
});
