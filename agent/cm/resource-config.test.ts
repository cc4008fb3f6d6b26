import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultPodRequests } from '../resources/api-defaults.js';
import { nodeAllocatableResourceConfig, podResourceConfig, qosResourceConfigs } from './resource-config.js';

function ctr(name: string, requests?: Record<string, string>, limits?: Record<string, string>): V1Container {
  return { name, image: 'busybox', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } };
}

/** As the API server stores it: requests defaulted from limits. */
function pod(containers: V1Container[], initContainers: V1Container[] = [], extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return defaultPodRequests({ metadata: { uid: 'u1', name: 'p', namespace: 'default' }, spec: { containers, initContainers, ...extra } });
}

const opts = { enforceCpuLimits: true, podPidsLimit: -1 };

describe('podResourceConfig', () => {
  it('gives a BestEffort pod the minimum shares and nothing else', () => {
    expect(podResourceConfig(pod([ctr('a')]), opts)).toEqual({ cpuShares: 2 });
  });

  it('gives a Guaranteed pod shares, quota, period and memory limit from the summed limits', () => {
    const p = pod([ctr('a', undefined, { cpu: '500m', memory: '128Mi' }), ctr('b', undefined, { cpu: '250m', memory: '64Mi' })]);
    expect(podResourceConfig(p, opts)).toEqual({ cpuShares: 768, cpuQuota: 75_000, cpuPeriod: 100_000, memoryLimitBytes: 192n * 1024n ** 2n });
  });

  it('sets a Burstable pod only shares when one container has no limits', () => {
    const p = pod([ctr('a', { cpu: '100m' }, { cpu: '200m', memory: '64Mi' }), ctr('b', { cpu: '300m' })]);
    expect(podResourceConfig(p, opts)).toEqual({ cpuShares: 409 });
  });

  it('sets a Burstable pod quota and memory when every container declares both limits', () => {
    const p = pod([ctr('a', { cpu: '100m' }, { cpu: '200m', memory: '64Mi' })]);
    expect(podResourceConfig(p, opts)).toEqual({ cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitBytes: 64n * 1024n ** 2n });
  });

  it('leaves out the quota when an init container lacks a cpu limit, but keeps the memory limit', () => {
    const p = pod([ctr('a', { cpu: '100m' }, { cpu: '200m', memory: '64Mi' })], [ctr('init', undefined, { memory: '32Mi' })]);
    expect(podResourceConfig(p, opts)).toEqual({ cpuShares: 102, memoryLimitBytes: 64n * 1024n ** 2n });
  });

  it('counts the largest init container request in the shares', () => {
    const p = pod([ctr('a', { cpu: '100m' })], [ctr('init', { cpu: '1' })]);
    expect(podResourceConfig(p, opts).cpuShares).toBe(1024);
  });

  it('writes an unlimited quota when cpuCFSQuota is off, with the configured period', () => {
    const p = pod([ctr('a', undefined, { cpu: '1', memory: '1Gi' })]);
    expect(podResourceConfig(p, { ...opts, enforceCpuLimits: false, cpuPeriodUs: 50_000 })).toMatchObject({ cpuQuota: -1, cpuPeriod: 50_000 });
  });

  it('adds the pids limit only when podPidsLimit is positive', () => {
    const p = pod([ctr('a', { cpu: '100m' })]);
    expect(podResourceConfig(p, { ...opts, podPidsLimit: 1024 }).pidsLimit).toBe(1024);
    expect(podResourceConfig(p, { ...opts, podPidsLimit: 0 })).not.toHaveProperty('pidsLimit');
    expect(podResourceConfig(pod([ctr('a')]), { ...opts, podPidsLimit: 64 })).toEqual({ cpuShares: 2, pidsLimit: 64 });
  });

  it('adds the pod overhead to the limits that are set', () => {
    const p = pod([ctr('a', undefined, { cpu: '1', memory: '100Mi' })], [], { overhead: { cpu: '250m', memory: '10Mi' } });
    expect(podResourceConfig(p, opts)).toMatchObject({ cpuQuota: 125_000, memoryLimitBytes: 110n * 1024n ** 2n, cpuShares: 1280 });
  });

  it('names the field of a malformed limit', () => {
    const p: V1Pod = { metadata: { uid: 'u1' }, spec: { containers: [ctr('a', { cpu: '100m' }, { cpu: 'lots' })] } };
    expect(() => podResourceConfig(p, opts)).toThrow(/spec\.containers\[0\]\.resources\.limits\.cpu/);
  });
});

describe('qosResourceConfigs', () => {
  it('sums the cpu requests of Burstable pods only, and keeps BestEffort at 2 shares', () => {
    const burstable1 = pod([ctr('a', { cpu: '250m' })]);
    const burstable2 = pod([ctr('a', { cpu: '750m', memory: '1Mi' })]);
    const guaranteed = pod([ctr('a', undefined, { cpu: '4', memory: '1Gi' })]);
    const besteffort = pod([ctr('a')]);
    expect(qosResourceConfigs([burstable1, burstable2, guaranteed, besteffort])).toEqual({ burstable: { cpuShares: 1024 }, besteffort: { cpuShares: 2 } });
  });

  it('gives the Burstable tier the minimum shares when it has no pods', () => {
    expect(qosResourceConfigs([]).burstable).toEqual({ cpuShares: 2 });
  });
});

describe('nodeAllocatableResourceConfig', () => {
  const capacity = { cpu: '4', memory: '8Gi', pid: '32768', pods: '110' };

  it('limits kubepods to capacity minus kube and system reserved when "pods" is enforced, eviction-hard not subtracted', () => {
    const config = nodeAllocatableResourceConfig({
      capacity,
      kubeReserved: { cpu: '500m', memory: '1Gi', pid: '1000' },
      systemReserved: { memory: '512Mi' },
      enforceNodeAllocatable: ['pods'],
    });
    expect(config).toEqual({ cpuShares: 3584, memoryLimitBytes: 8n * 1024n ** 3n - 1536n * 1024n ** 2n, pidsLimit: 31_768 });
  });

  it('uses the whole capacity when "pods" is not enforced', () => {
    const config = nodeAllocatableResourceConfig({ capacity, kubeReserved: { memory: '1Gi' }, enforceNodeAllocatable: [] });
    expect(config).toEqual({ cpuShares: 4096, memoryLimitBytes: 8n * 1024n ** 3n, pidsLimit: 32_768 });
  });

  it('never goes below zero and leaves out what the capacity does not name', () => {
    expect(nodeAllocatableResourceConfig({ capacity: { memory: '1Gi' }, kubeReserved: { memory: '2Gi' }, enforceNodeAllocatable: ['pods'] })).toEqual({ memoryLimitBytes: 0n });
  });

  it('names the field of a malformed reservation', () => {
    expect(() => nodeAllocatableResourceConfig({ capacity, kubeReserved: { memory: 'a lot' }, enforceNodeAllocatable: ['pods'] })).toThrow(/kubeReserved\.memory/);
  });
});
