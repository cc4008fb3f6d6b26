import type { ResourceConfig } from './resource-config.js';

/**
 * A ResourceConfig as the interface files it becomes, per cgroup version (what runc's libcontainer
 * writes for the kubelet: fs/cpu.go, fs/memory.go, fs/pids.go, fs2/cpu.go, fs2/memory.go, fs2/pids.go).
 * Pure: the I/O lives in ./cgroup-manager.ts.
 */

export interface CgroupFileWrite {
  /** The v1 hierarchy the file lives in ('cpu', 'memory', 'pids'); '' in the v2 unified tree. */
  readonly controller: string;
  readonly file: string;
  readonly value: string;
}

/** cgroup v1: period before quota (a quota is checked against the period in force). */
export function v1Writes(config: ResourceConfig): CgroupFileWrite[] {
  const writes: CgroupFileWrite[] = [];
  if (config.cpuShares !== undefined) writes.push({ controller: 'cpu', file: 'cpu.shares', value: String(config.cpuShares) });
  if (config.cpuPeriod !== undefined) writes.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(config.cpuPeriod) });
  if (config.cpuQuota !== undefined) writes.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(config.cpuQuota) });
  // 0 means "not set" for memory (runc skips it), as a zero limit would make the cgroup unusable.
  if (config.memoryLimitBytes !== undefined && config.memoryLimitBytes !== 0n) {
    writes.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(config.memoryLimitBytes) });
  }
  if (config.pidsLimit !== undefined) writes.push({ controller: 'pids', file: 'pids.max', value: pidsValue(config.pidsLimit) });
  return writes;
}

/** cgroup v2: cpu.weight from shares, cpu.max "<quota|max> <period>", memory.max, pids.max. */
export function v2Writes(config: ResourceConfig): CgroupFileWrite[] {
  const writes: CgroupFileWrite[] = [];
  if (config.cpuShares !== undefined) writes.push({ controller: '', file: 'cpu.weight', value: String(sharesToWeight(config.cpuShares)) });
  if (config.cpuQuota !== undefined || config.cpuPeriod !== undefined) {
    const quota = config.cpuQuota !== undefined && config.cpuQuota > 0 ? String(config.cpuQuota) : 'max';
    writes.push({ controller: '', file: 'cpu.max', value: config.cpuPeriod !== undefined ? `${quota} ${config.cpuPeriod}` : quota });
  }
  if (config.memoryLimitBytes !== undefined && config.memoryLimitBytes !== 0n) {
    writes.push({ controller: '', file: 'memory.max', value: String(config.memoryLimitBytes) });
  }
  if (config.pidsLimit !== undefined) writes.push({ controller: '', file: 'pids.max', value: pidsValue(config.pidsLimit) });
  return writes;
}

/** The v2 controllers a config needs enabled in every ancestor's cgroup.subtree_control. */
export function v2Controllers(config: ResourceConfig): string[] {
  const needed = new Set<string>();
  for (const w of v2Writes(config)) needed.add(w.file.slice(0, w.file.indexOf('.')));
  return [...needed];
}

/** Shares [2, 262144] onto weight [1, 10000] linearly (runc ConvertCPUSharesToCgroupV2Value). */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

function pidsValue(limit: number): string {
  return limit < 0 ? 'max' : String(limit);
}
