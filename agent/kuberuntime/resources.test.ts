import { describe, expect, it } from 'vitest';
import { burstableOomScoreAdj, milliCpuToQuota, milliCpuToShares } from './cpu-memory.js';
import {
  containerLinuxResources,
  containerOomScoreAdj,
  hugePageSizeName,
  podLimits,
  sandboxLinuxResources,
  sandboxOverheadResources,
} from './resources.js';
import { container, pod } from './test-fixtures.js';

const GiB = 1024n ** 3n;
const node = { memoryCapacityBytes: 8n * GiB };

describe('cpu and memory mapping', () => {
  it('maps millicores to cpu.shares with the kernel bounds and integer division', () => {
    expect(milliCpuToShares(0n)).toBe(2);
    expect(milliCpuToShares(1n)).toBe(2);
    expect(milliCpuToShares(100n)).toBe(102);
    expect(milliCpuToShares(1000n)).toBe(1024);
    expect(milliCpuToShares(256_000n)).toBe(262_144);
    expect(milliCpuToShares(1_000_000n)).toBe(262_144);
  });

  it('maps a cpu limit to a CFS quota of at least 1 ms and 0 when unlimited', () => {
    expect(milliCpuToQuota(0n)).toBe(0);
    expect(milliCpuToQuota(5n)).toBe(1000);
    expect(milliCpuToQuota(250n)).toBe(25_000);
    expect(milliCpuToQuota(2000n)).toBe(200_000);
    expect(milliCpuToQuota(250n, 50_000)).toBe(12_500);
  });

  it('computes the Burstable oom_score_adj strictly between Guaranteed and BestEffort', () => {
    expect(burstableOomScoreAdj(0n, 8n * GiB)).toBe(999);
    expect(burstableOomScoreAdj(100n, 1000n)).toBe(900);
    // Integer arithmetic truncates: a request just under 10 % scores 901, not 900.
    expect(burstableOomScoreAdj(8n * GiB / 10n, 8n * GiB)).toBe(901);
    expect(burstableOomScoreAdj(8n * GiB, 8n * GiB)).toBe(3);
    expect(burstableOomScoreAdj(16n * GiB, 8n * GiB)).toBe(3);
  });

});

describe('containerLinuxResources', () => {
  it('gives a Guaranteed container its shares, quota, memory limit and oom_score_adj -997', () => {
    const c = container('app', { resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } } });
    expect(containerLinuxResources(pod({ containers: [c] }), c, node)).toEqual({
      cpuShares: 512,
      cpuQuota: 50_000,
      cpuPeriod: 100_000,
      memoryLimitInBytes: 256 * 1024 * 1024,
      oomScoreAdj: -997,
      hugepageLimits: [],
    });
  });

  it('gives a BestEffort container minimal shares, no quota, no memory limit and oom_score_adj 1000', () => {
    const c = container('app');
    expect(containerLinuxResources(pod({ containers: [c] }), c, node)).toEqual({
      cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitInBytes: 0, oomScoreAdj: 1000, hugepageLimits: [],
    });
  });

  it('takes shares from the cpu limit when no cpu request is given', () => {
    const c = container('app', { resources: { limits: { cpu: '2' }, requests: { memory: '1Gi' } } });
    const r = containerLinuxResources(pod({ containers: [c] }), c, node);
    expect(r.cpuShares).toBe(2048);
    expect(r.cpuQuota).toBe(200_000);
    expect(r.oomScoreAdj).toBe(875);
  });

  it('omits quota and period when cpuCFSQuota is off', () => {
    const c = container('app', { resources: { limits: { cpu: '1' } } });
    const r = containerLinuxResources(pod({ containers: [c] }), c, { ...node, cpuCfsQuota: false });
    expect(r.cpuQuota).toBe(0);
    expect(r.cpuPeriod).toBe(0);
  });

  it('lists every host huge page size with the container limit or zero', () => {
    const c = container('app', { resources: { limits: { 'hugepages-2Mi': '4Mi', memory: '1Gi' }, requests: { memory: '1Gi' } } });
    const r = containerLinuxResources(pod({ containers: [c] }), c, { ...node, hugePageSizes: ['2MB', '1GB'] });
    expect(r.hugepageLimits).toEqual([{ pageSize: '2MB', limit: 4 * 1024 * 1024 }, { pageSize: '1GB', limit: 0 }]);
    expect(hugePageSizeName('hugepages-1Gi')).toBe('1GB');
  });

  it('names the container field when a quantity is malformed', () => {
    const c = container('app', { resources: { limits: { cpu: '1 core' } } });
    expect(() => containerLinuxResources(pod({ containers: [c] }), c, node)).toThrow('spec.containers[0].resources.limits.cpu');
  });
});

describe('containerOomScoreAdj', () => {
  it('gives node-critical pods the Guaranteed score whatever their QoS', () => {
    const c = container('app');
    const p = pod({ containers: [c], priority: 2_000_001_000, priorityClassName: 'system-node-critical' });
    expect(containerOomScoreAdj(p, c, 8n * GiB)).toBe(-997);
  });

  it('never scores a sidecar above the regular container with the smallest memory request', () => {
    const side = container('side', { restartPolicy: 'Always', resources: { requests: { memory: '100Mi' } } });
    const app = container('app', { resources: { requests: { memory: '4Gi' } } });
    const p = pod({ initContainers: [side], containers: [app] });
    expect(containerOomScoreAdj(p, app, 8n * GiB)).toBe(500);
    expect(containerOomScoreAdj(p, side, 8n * GiB)).toBe(500);
  });
});

describe('sandbox and pod cgroup resources', () => {
  const a = container('a', { resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } });
  const b = container('b', { resources: { requests: { cpu: '250m' } } });

  it('sums the pod requests and limits for the sandbox', () => {
    const p = pod({ containers: [a, b] });
    expect(sandboxLinuxResources(p, node)).toEqual({ cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitInBytes: 128 * 1024 * 1024 });
    expect(podLimits(p).cpu?.toString()).toBe('500m');
  });

  it('treats overhead as request equal to limit', () => {
    const p = pod({ containers: [a], overhead: { cpu: '100m', memory: '20Mi' } });
    expect(sandboxOverheadResources(p, node)).toEqual({ cpuShares: 102, cpuQuota: 10_000, cpuPeriod: 100_000, memoryLimitInBytes: 20 * 1024 * 1024 });
  });

});
