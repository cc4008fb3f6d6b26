import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { isPodLevelResourcesSet, podLevelResourcesEnabled, podRequests, type FeatureGateOptions } from '../resources/pod-requests.js';
import { podQOSClass, type QOSClass } from '../resources/qos.js';
import type { Quantity } from '../resources/quantity.js';
import { addInto, maxInto, parseResourceList } from '../resources/resource-list.js';
import {
  BESTEFFORT_OOM_SCORE_ADJ,
  DEFAULT_CFS_PERIOD_US,
  GUARANTEED_OOM_SCORE_ADJ,
  MIN_CPU_SHARES,
  clampBurstable,
  milliCpuToQuota,
  milliCpuToShares,
  rawBurstableOomScoreAdj,
} from './cpu-memory.js';
import { containersOf, initContainersOf, isNodeCriticalPod, isRestartableInitContainer } from './pod-helpers.js';

/**
 * The CRI LinuxContainerResources the kubelet sends for a container, a sandbox and its overhead, and
 * the pod cgroup's settings — pure functions of the pod spec and node facts (upstream
 * kuberuntime_container_linux.go generateLinuxContainerResources / calculateLinuxResources,
 * kuberuntime_sandbox_linux.go, cm/helpers_linux.go ResourceConfigForPod, qos/policy.go).
 */

export interface CriResourceOptions extends FeatureGateOptions {
  /** Node memory capacity in bytes (the denominator of the Burstable oom_score_adj). */
  readonly memoryCapacityBytes: bigint;
  /** KubeletConfiguration.cpuCFSQuota (default true): send quota/period at all. */
  readonly cpuCfsQuota?: boolean;
  /** CFS period in microseconds (KubeletConfiguration.cpuCFSQuotaPeriod; default 100 ms). */
  readonly cpuCfsQuotaPeriodUs?: number;
  /** Huge page sizes the host supports, as the kernel names them ('2MB', '1GB'); each gets a limit entry. */
  readonly hugePageSizes?: readonly string[];
}

export interface CriLinuxResources {
  cpuPeriod: number;
  cpuQuota: number;
  cpuShares: number;
  memoryLimitInBytes: number;
  oomScoreAdj: number;
  hugepageLimits: Array<{ pageSize: string; limit: number }>;
}

function quantityOf(list: Record<string, Quantity>, name: string): Quantity | undefined {
  return list[name];
}

function containerList(resources: V1ResourceRequirements | undefined, kind: 'requests' | 'limits', field: string): Record<string, Quantity> {
  return parseResourceList(resources?.[kind], `${field}.resources.${kind}`);
}

function fieldOf(pod: V1Pod, container: V1Container): string {
  const regular = containersOf(pod).indexOf(container);
  if (regular >= 0) return `spec.containers[${regular}]`;
  const init = initContainersOf(pod).indexOf(container);
  if (init >= 0) return `spec.initContainers[${init}]`;
  return `container ${container.name}`;
}

/** upstream calculateLinuxResources: shares from the request (or the limit when no request), quota from the limit. */
export function calculateLinuxResources(
  cpuRequestMilli: bigint | undefined,
  cpuLimitMilli: bigint,
  memoryLimitBytes: bigint,
  options: Pick<CriResourceOptions, 'cpuCfsQuota' | 'cpuCfsQuotaPeriodUs'>,
): Omit<CriLinuxResources, 'oomScoreAdj' | 'hugepageLimits'> {
  const cpuShares = milliCpuToShares(cpuRequestMilli === undefined ? cpuLimitMilli : cpuRequestMilli);
  const out = { cpuShares, cpuQuota: 0, cpuPeriod: 0, memoryLimitInBytes: memoryLimitBytes !== 0n ? Number(memoryLimitBytes) : 0 };
  if (options.cpuCfsQuota ?? true) {
    const period = options.cpuCfsQuotaPeriodUs ?? DEFAULT_CFS_PERIOD_US;
    out.cpuPeriod = period;
    out.cpuQuota = milliCpuToQuota(cpuLimitMilli, period);
  }
  return out;
}

/** Container limit, falling back to the pod-level limit when pod-level resources are in use. */
function effectiveLimit(pod: V1Pod, limits: Record<string, Quantity>, name: 'cpu' | 'memory', options: FeatureGateOptions): Quantity | undefined {
  const own = quantityOf(limits, name);
  if (podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod) && (own === undefined || own.isZero())) {
    return quantityOf(parseResourceList(pod.spec?.resources?.limits, 'spec.resources.limits'), name);
  }
  return own;
}

/** LinuxContainerResources for one container of the pod (regular or init). */
export function containerLinuxResources(pod: V1Pod, container: V1Container, options: CriResourceOptions): CriLinuxResources {
  const field = fieldOf(pod, container);
  const requests = containerList(container.resources, 'requests', field);
  const limits = containerList(container.resources, 'limits', field);
  const cpuRequest = quantityOf(requests, 'cpu');
  const cpuLimit = effectiveLimit(pod, limits, 'cpu', options);
  const memoryLimit = effectiveLimit(pod, limits, 'memory', options);
  const base = calculateLinuxResources(
    cpuRequest?.milliValue(),
    cpuLimit?.milliValue() ?? 0n,
    memoryLimit?.value() ?? 0n,
    options,
  );
  return {
    ...base,
    oomScoreAdj: containerOomScoreAdj(pod, container, options.memoryCapacityBytes, options),
    hugepageLimits: hugepageLimits(limits, options.hugePageSizes ?? []),
  };
}

/** Kernel page-size name for a hugepages-<size> resource: hugepages-2Mi → '2MB', hugepages-1Gi → '1GB'. */
export function hugePageSizeName(resourceName: string): string | undefined {
  const m = /^hugepages-(\d+)(Ki|Mi|Gi)$/.exec(resourceName);
  if (!m) return undefined;
  const unit = m[2] === 'Ki' ? 'KB' : m[2] === 'Mi' ? 'MB' : 'GB';
  return `${m[1]}${unit}`;
}

function hugepageLimits(limits: Record<string, Quantity>, sizes: readonly string[]): Array<{ pageSize: string; limit: number }> {
  const requested = new Map<string, number>();
  for (const [name, q] of Object.entries(limits)) {
    const size = hugePageSizeName(name);
    if (size) requested.set(size, Number(q.value()));
  }
  return sizes.map((pageSize) => ({ pageSize, limit: requested.get(pageSize) ?? 0 }));
}

function memoryRequestBytes(container: V1Container, field: string): bigint {
  return quantityOf(containerList(container.resources, 'requests', field), 'memory')?.value() ?? 0n;
}

/**
 * oom_score_adj by QoS (semantics §1.7): node-critical and Guaranteed −997, BestEffort 1000, Burstable
 * by memory request over capacity. A sidecar never scores above the regular container with the
 * smallest request; pod-level memory requests not claimed by containers are shared out equally.
 */
export function containerOomScoreAdj(
  pod: V1Pod,
  container: V1Container,
  memoryCapacityBytes: bigint,
  options: FeatureGateOptions = {},
): number {
  if (isNodeCriticalPod(pod)) return GUARANTEED_OOM_SCORE_ADJ;
  const qos: QOSClass = podQOSClass(pod, options);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  if (memoryCapacityBytes <= 0n) throw new RangeError('memory capacity must be positive to compute oom_score_adj');

  const podLevel = podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod) && podLevelMemoryRequest(pod) > 0n;
  const extraPerContainer = podLevel ? remainingPodMemoryPerContainer(pod) : 0n;
  let adjust = rawBurstableOomScoreAdj(memoryRequestBytes(container, fieldOf(pod, container)) + extraPerContainer, memoryCapacityBytes);

  const isSidecar = isRestartableInitContainer(container) && initContainersOf(pod).some((c) => c.name === container.name);
  const regular = containersOf(pod);
  if (isSidecar && regular.length > 0) {
    let minRequest = memoryRequestBytes(regular[0]!, 'spec.containers[0]');
    regular.forEach((c, i) => {
      const r = memoryRequestBytes(c, `spec.containers[${i}]`);
      if (r < minRequest) minRequest = r;
    });
    const minAdjust = rawBurstableOomScoreAdj(minRequest + extraPerContainer, memoryCapacityBytes);
    if (adjust > minAdjust) adjust = minAdjust;
  }
  return clampBurstable(adjust);
}

function podLevelMemoryRequest(pod: V1Pod): bigint {
  return quantityOf(parseResourceList(pod.spec?.resources?.requests, 'spec.resources.requests'), 'memory')?.value() ?? 0n;
}

function remainingPodMemoryPerContainer(pod: V1Pod): bigint {
  const podMemory = podLevelMemoryRequest(pod);
  if (podMemory === 0n) return 0n;
  const count = BigInt(containersOf(pod).length + initContainersOf(pod).length);
  const containerSum = podRequests(pod, { featureGates: { PodLevelResources: false }, excludeOverhead: true }).memory?.value() ?? 0n;
  return (podMemory - containerSum) / count;
}

/**
 * Pod limits (upstream resourcehelper.PodLimits): regular containers and sidecars summed, raised to
 * each init container's peak alongside the sidecars started before it; pod-level limits replace
 * cpu/memory when set.
 */
export function podLimits(pod: V1Pod, options: FeatureGateOptions = {}): Record<string, Quantity> {
  const total: Record<string, Quantity> = {};
  containersOf(pod).forEach((c, i) => addInto(total, containerList(c.resources, 'limits', `spec.containers[${i}]`)));
  const sidecars: Record<string, Quantity> = {};
  const peak: Record<string, Quantity> = {};
  initContainersOf(pod).forEach((c, i) => {
    const limits = containerList(c.resources, 'limits', `spec.initContainers[${i}]`);
    if (isRestartableInitContainer(c)) {
      addInto(total, limits);
      addInto(sidecars, limits);
      maxInto(peak, sidecars);
    } else {
      const during: Record<string, Quantity> = {};
      addInto(during, limits);
      addInto(during, sidecars);
      maxInto(peak, during);
    }
  });
  maxInto(total, peak);
  if (podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod)) {
    const podLevel = parseResourceList(pod.spec?.resources?.limits, 'spec.resources.limits');
    for (const name of ['cpu', 'memory']) {
      const q = podLevel[name];
      if (q !== undefined) total[name] = q;
    }
  }
  return total;
}

/** LinuxPodSandboxConfig.resources: the whole pod's requests and limits, overhead excluded. */
export function sandboxLinuxResources(pod: V1Pod, options: CriResourceOptions): Omit<CriLinuxResources, 'oomScoreAdj' | 'hugepageLimits'> {
  const requests = podRequests(pod, { ...options, excludeOverhead: true });
  const limits = podLimits(pod, options);
  return calculateLinuxResources(requests.cpu?.milliValue(), limits.cpu?.milliValue() ?? 0n, limits.memory?.value() ?? 0n, options);
}

/** LinuxPodSandboxConfig.overhead: spec.overhead treated as request == limit. */
export function sandboxOverheadResources(pod: V1Pod, options: CriResourceOptions): Omit<CriLinuxResources, 'oomScoreAdj' | 'hugepageLimits'> {
  const overhead = parseResourceList(pod.spec?.overhead, 'spec.overhead');
  if (Object.keys(overhead).length === 0) {
    return { cpuShares: 0, cpuQuota: 0, cpuPeriod: 0, memoryLimitInBytes: 0 };
  }
  const cpu = overhead.cpu?.milliValue() ?? 0n;
  return calculateLinuxResources(cpu, cpu, overhead.memory?.value() ?? 0n, options);
}

