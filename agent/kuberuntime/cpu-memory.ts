/**
 * The kubelet's numeric mapping from Kubernetes resources to Linux cgroup knobs, as pure functions of
 * numbers (millicores, bytes). The pod-aware wrappers live in ./resources.ts.
 *
 * Upstream: pkg/kubelet/cm/helpers_linux.go (MilliCPUToShares, MilliCPUToQuota), pkg/kubelet/qos/policy.go
 * (GetContainerOOMScoreAdjust), pkg/kubelet/kuberuntime/kuberuntime_container_linux.go.
 */

/** Kernel bounds of cpu.shares (kernel/sched/sched.h). */
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262_144;
export const SHARES_PER_CPU = 1024;
export const MILLI_CPU_TO_CPU = 1000;
/** Default CFS period: 100 ms, in microseconds. */
export const DEFAULT_CFS_PERIOD_US = 100_000;
/** The kubelet never sets a quota below 1 ms. */
export const MIN_CFS_QUOTA_US = 1_000;

export const GUARANTEED_OOM_SCORE_ADJ = -997;
export const BESTEFFORT_OOM_SCORE_ADJ = 1000;
/** The pause (infra) container of every pod. */
export const POD_INFRA_OOM_SCORE_ADJ = -998;
export const KUBELET_OOM_SCORE_ADJ = -999;

/**
 * cpu.shares for a cpu request in millicores. Zero means "no request", which the kubelet maps to the
 * minimum (2) rather than the kernel's unset default of 1024. Integer division as upstream.
 */
export function milliCpuToShares(milliCpu: bigint): number {
  if (milliCpu === 0n) return MIN_CPU_SHARES;
  const shares = (milliCpu * BigInt(SHARES_PER_CPU)) / BigInt(MILLI_CPU_TO_CPU);
  if (shares < BigInt(MIN_CPU_SHARES)) return MIN_CPU_SHARES;
  if (shares > BigInt(MAX_CPU_SHARES)) return MAX_CPU_SHARES;
  return Number(shares);
}

/**
 * cpu.cfs_quota_us for a cpu limit in millicores over `periodUs`. No limit (0) gives quota 0, which
 * runtimes treat as unlimited; any limit gives at least 1 ms.
 */
export function milliCpuToQuota(milliCpu: bigint, periodUs: number = DEFAULT_CFS_PERIOD_US): number {
  if (milliCpu === 0n) return 0;
  const quota = (milliCpu * BigInt(periodUs)) / BigInt(MILLI_CPU_TO_CPU);
  if (quota < BigInt(MIN_CFS_QUOTA_US)) return MIN_CFS_QUOTA_US;
  return Number(quota);
}

/**
 * Burstable oom_score_adj: `1000 − 1000·request/capacity` (integer arithmetic, truncating), raised to at
 * least 1000 + guaranteed (3) and lowered to 999 when it would equal the BestEffort value, so a
 * Burstable container is always strictly between the two other classes.
 */
export function burstableOomScoreAdj(memoryRequestBytes: bigint, memoryCapacityBytes: bigint): number {
  if (memoryCapacityBytes <= 0n) throw new RangeError('memory capacity must be positive to compute oom_score_adj');
  const adjust = 1000n - (1000n * memoryRequestBytes) / memoryCapacityBytes;
  return clampBurstable(adjust);
}

/** The raw (unclamped) Burstable formula, used to compare a sidecar against regular containers. */
export function rawBurstableOomScoreAdj(memoryRequestBytes: bigint, memoryCapacityBytes: bigint): bigint {
  return 1000n - (1000n * memoryRequestBytes) / memoryCapacityBytes;
}

export function clampBurstable(adjust: bigint): number {
  const floor = BigInt(1000 + GUARANTEED_OOM_SCORE_ADJ);
  if (adjust < floor) return Number(floor);
  if (adjust === BigInt(BESTEFFORT_OOM_SCORE_ADJ)) return BESTEFFORT_OOM_SCORE_ADJ - 1;
  return Number(adjust);
}

