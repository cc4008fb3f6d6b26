import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podFitsResources } from './admission.js';
import { hardEvictionReservation, nodeAllocatable } from './allocatable.js';
import { aggregateContainerRequests, podRequests } from './pod-requests.js';

const text = (list: Record<string, { toString(): string }>) => Object.fromEntries(Object.entries(list).map(([k, v]) => [k, v.toString()]));

describe('nodeAllocatable', () => {
  it('subtracts system and kube reservations and the default hard eviction thresholds', () => {
    const allocatable = nodeAllocatable({
      capacity: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', pods: '110' },
      systemReserved: { cpu: '100m', memory: '256Mi' },
      kubeReserved: { cpu: '200m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
    });
    // memory: 8Gi − 512Mi − 100Mi; storage: 100Gi − 1Gi − float32(10%) of 100Gi = 10737418400.
    expect(text(allocatable)).toEqual({
      cpu: '3700m',
      memory: '7580Mi',
      'ephemeral-storage': String(100n * 2n ** 30n - 2n ** 30n - 10737418400n),
      pods: '110',
    });
  });

  it('reserves only memory.available and nodefs.available', () => {
    const reservation = hardEvictionReservation({
      capacity: { memory: '1Gi', 'ephemeral-storage': '10Gi' },
      evictionHard: { 'memory.available': '5%', 'nodefs.inodesFree': '50%', 'imagefs.available': '50%', 'pid.available': '10' },
    });
    expect(Object.keys(reservation)).toEqual(['memory']);
    expect(reservation.memory?.value()).toBe(BigInt(Math.trunc(2 ** 30 * Math.fround(0.05))));
  });

  it('takes huge pages out of memory, never below zero, and leaves huge pages whole', () => {
    const allocatable = nodeAllocatable({ capacity: { memory: '4Gi', 'hugepages-2Mi': '1Gi', 'hugepages-1Gi': '2Gi' }, evictionHard: {} });
    expect(text(allocatable)).toEqual({ memory: '1Gi', 'hugepages-2Mi': '1Gi', 'hugepages-1Gi': '2Gi' });
    const starved = nodeAllocatable({ capacity: { memory: '1Gi', 'hugepages-2Mi': '2Gi' }, evictionHard: {} });
    expect(starved.memory?.isZero()).toBe(true);
  });

  it('clamps at zero when reservations exceed capacity', () => {
    const allocatable = nodeAllocatable({ capacity: { cpu: '1', memory: '64Mi' }, kubeReserved: { cpu: '2' } });
    expect(allocatable.cpu?.isZero()).toBe(true);
    expect(allocatable.memory?.isZero()).toBe(true);
  });

  it('ignores hard eviction when told to, and names a bad entry', () => {
    expect(text(nodeAllocatable({ capacity: { memory: '1Gi' }, ignoreHardEviction: true }))).toEqual({ memory: '1Gi' });
    expect(() => nodeAllocatable({ capacity: { memory: '1Gi' }, kubeReserved: { memory: 'lots' } })).toThrow(/kubeReserved\.memory/);
  });
});

function container(name: string, requests: Record<string, string>, extra: Partial<V1Container> = {}): V1Container {
  return { name, resources: { requests }, ...extra };
}

describe('pod requests (init containers and sidecars)', () => {
  it('takes the larger of the regular sum and the init container peaks', () => {
    const pod: V1Pod = {
      spec: {
        containers: [container('a', { cpu: '100m', memory: '64Mi' }), container('b', { cpu: '100m', memory: '64Mi' })],
        initContainers: [container('init', { cpu: '500m', memory: '32Mi' })],
      },
    };
    expect(text(aggregateContainerRequests(pod))).toEqual({ cpu: '500m', memory: '128Mi' });
  });

  it('adds sidecars to everything after them', () => {
    const pod: V1Pod = {
      spec: {
        containers: [container('app', { cpu: '200m' })],
        initContainers: [
          container('sidecar', { cpu: '100m' }, { restartPolicy: 'Always' }),
          container('migrate', { cpu: '250m' }),
        ],
      },
    };
    // Regular phase: app + sidecar = 300m; init phase: migrate + sidecar = 350m.
    expect(text(aggregateContainerRequests(pod))).toEqual({ cpu: '350m' });
  });

  it('adds overhead', () => {
    const pod: V1Pod = { spec: { containers: [container('a', { cpu: '100m' })], overhead: { cpu: '50m', memory: '10Mi' } } };
    expect(text(podRequests(pod))).toEqual({ cpu: '150m', memory: '10Mi' });
  });
});

describe('podFitsResources', () => {
  const allocatable = { cpu: '2', memory: '4Gi', pods: '3', 'example.com/gpu': '1' };
  const pod = (name: string, requests: Record<string, string>, phase?: string): V1Pod => ({
    metadata: { name },
    spec: { containers: [container('c', requests)] },
    ...(phase ? { status: { phase } } : {}),
  });

  it('admits a pod that fits', () => {
    expect(podFitsResources(pod('p', { cpu: '1' }), { allocatable, admittedPods: [pod('q', { cpu: '1' })] })).toEqual({ admit: true });
  });

  it('reports OutOfcpu with millicores in the message', () => {
    const result = podFitsResources(pod('p', { cpu: '1500m' }), { allocatable, admittedPods: [pod('q', { cpu: '1' })] });
    expect(result).toMatchObject({ admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000" });
  });

  it('reports OutOfmemory in bytes and OutOfpods before anything else', () => {
    const memory = podFitsResources(pod('p', { memory: '5Gi' }), { allocatable, admittedPods: [] });
    expect(memory).toMatchObject({ reason: 'OutOfmemory', message: `Node didn't have enough resource: memory, requested: ${5n * 2n ** 30n}, used: 0, capacity: ${4n * 2n ** 30n}` });
    const full = [pod('a', {}), pod('b', {}), pod('c', {})];
    const pods = podFitsResources(pod('p', { memory: '5Gi' }), { allocatable, admittedPods: full });
    expect(pods).toMatchObject({ reason: 'OutOfpods', message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3" });
    expect(pods.admit === false && pods.insufficient.map((r) => r.resource)).toEqual(['pods', 'memory']);
  });

  it('ignores terminal pods and extended resources the node does not advertise', () => {
    const done = [pod('a', { cpu: '2' }, 'Succeeded'), pod('b', {}, 'Failed'), pod('c', {}), pod('d', {})];
    expect(podFitsResources(pod('p', { cpu: '2', 'vendor.io/fpga': '1' }), { allocatable, admittedPods: done })).toEqual({ admit: true });
  });

  it('checks extended resources the node advertises', () => {
    const result = podFitsResources(pod('p', { 'example.com/gpu': '2' }), { allocatable, admittedPods: [] });
    expect(result).toMatchObject({ reason: 'OutOfexample.com/gpu', message: "Node didn't have enough resource: example.com/gpu, requested: 2, used: 0, capacity: 1" });
  });

  it('skips the resource checks for a pod requesting nothing', () => {
    expect(podFitsResources(pod('p', {}), { allocatable: { pods: '1' }, admittedPods: [] })).toEqual({ admit: true });
  });

  it('counts an admitted pod by the PodLevelResources setting of each call, not of the first one', () => {
    const podLevel: V1Pod = { ...pod('q', { cpu: '500m' }), spec: { containers: [container('c', { cpu: '500m' })], resources: { requests: { cpu: '1500m' } } } };
    const admittedPods = [podLevel];
    const incoming = pod('p', { cpu: '1' });
    expect(podFitsResources(incoming, { allocatable, admittedPods })).toMatchObject({ admit: false, reason: 'OutOfcpu' });
    expect(podFitsResources(incoming, { allocatable, admittedPods, featureGates: { PodLevelResources: false } })).toEqual({ admit: true });
    expect(podFitsResources(incoming, { allocatable, admittedPods })).toMatchObject({ admit: false, reason: 'OutOfcpu' });
  });
});
