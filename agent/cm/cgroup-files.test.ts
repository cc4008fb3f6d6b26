import { describe, expect, it } from 'vitest';
import { sharesToWeight, v1Writes, v2Controllers, v2Writes } from './cgroup-files.js';

describe('cgroup interface files', () => {
  it('writes v1 shares, period before quota, memory and pids in their hierarchies', () => {
    expect(v1Writes({ cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitBytes: 64n << 20n, pidsLimit: 1024 })).toEqual([
      { controller: 'cpu', file: 'cpu.shares', value: '102' },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '20000' },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '67108864' },
      { controller: 'pids', file: 'pids.max', value: '1024' },
    ]);
  });

  it('writes unlimited pids as "max", an unlimited quota as -1, and skips a zero memory limit', () => {
    expect(v1Writes({ cpuQuota: -1, pidsLimit: -1, memoryLimitBytes: 0n })).toEqual([
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '-1' },
      { controller: 'pids', file: 'pids.max', value: 'max' },
    ]);
  });

  it('writes nothing for an empty config', () => {
    expect(v1Writes({})).toEqual([]);
    expect(v2Writes({})).toEqual([]);
  });

  it('maps shares onto v2 weights at both ends of the range', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262_144)).toBe(10_000);
  });

  it('writes v2 cpu.max as quota and period, "max" when unlimited', () => {
    expect(v2Writes({ cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 1n << 30n, pidsLimit: 10 })).toEqual([
      { controller: '', file: 'cpu.weight', value: '39' },
      { controller: '', file: 'cpu.max', value: '50000 100000' },
      { controller: '', file: 'memory.max', value: '1073741824' },
      { controller: '', file: 'pids.max', value: '10' },
    ]);
    expect(v2Writes({ cpuQuota: -1, cpuPeriod: 100_000 })).toEqual([{ controller: '', file: 'cpu.max', value: 'max 100000' }]);
  });

  it('names the v2 controllers a config needs', () => {
    expect(v2Controllers({ cpuShares: 2, pidsLimit: 5 })).toEqual(['cpu', 'pids']);
    expect(v2Controllers({ memoryLimitBytes: 1n })).toEqual(['memory']);
  });
});
