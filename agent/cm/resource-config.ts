import type { V1Pod } from '@kubernetes/client-node';
import { isPodLevelResourcesSet, podLevelResourcesEnabled, podRequests, type FeatureGateOptions } from '../resources/pod-requests.js';
import { podQOSClass } from '../resources/qos.js';
import { Quantity } from '../resources/quantity.js';
import { parseResourceList, type ResourceListInput } from '../resources/resource-list.js';
import { DEFAULT_CFS_PERIOD_US, MIN_CPU_SHARES, milliCpuToQuota, milliCpuToShares } from '../kuberuntime/cpu-memory.js';
import { containersOf, initContainersOf } from '../kuberuntime/pod-helpers.js';
import { podLimits } from '../kuberuntime/resources.js';

/**
 * What the kubelet's container manager writes into the cgroups it owns, as pure functions of pods and
 * node facts (upstream cm/helpers_linux.go ResourceConfigForPod, qos_container_manager_linux.go
 * setCPUCgroupConfig, node_container_manager_linux.go getNodeAllocatableAbsolute / getCgroupConfig).
 * An absent field means "leave the kernel's value alone".
 */

export interface ResourceConfig {
  readonly cpuShares?: number;
  /** cpu.cfs_quota_us; -1 is unlimited. */
  readonly cpuQuota?: number;
  readonly cpuPeriod?: number;
  readonly memoryLimitBytes?: bigint;
  /** pids.max; -1 is unlimited ("max"). */
  readonly pidsLimit?: number;
}

export interface PodCgroupOptions extends FeatureGateOptions {
  /** KubeletConfiguration.cpuCFSQuota: false leaves the quota unlimited (-1). */
  readonly enforceCpuLimits: boolean;
  /** KubeletConfiguration.cpuCFSQuotaPeriod in microseconds. */
  readonly cpuPeriodUs?: number;
  /** KubeletConfiguration.podPidsLimit; only a positive value is written. */
  readonly podPidsLimit: number;
}

/**
 * The pod cgroup's settings: cpu.shares from the pod's requests (init containers' peak included),
 * quota/period and memory limit for Guaranteed pods, and for Burstable pods only when every container
 * (init containers too) declares that limit; BestEffort pods get the minimum shares only.
 */
export function podResourceConfig(pod: V1Pod, options: PodCgroupOptions): ResourceConfig {
  const qos = podQOSClass(pod, options);
  const pids = options.podPidsLimit > 0 ? { pidsLimit: options.podPidsLimit } : {};
  if (qos === 'BestEffort') return { cpuShares: MIN_CPU_SHARES, ...pids };

  const requests = podRequests(pod, options);
  const limits = podLimits(pod, options);
  // Overhead counts towards a limit only where one is set (upstream PodLimits).
  for (const [name, overhead] of Object.entries(parseResourceList(pod.spec?.overhead, 'spec.overhead'))) {
    const limit = limits[name];
    if (limit !== undefined) limits[name] = limit.add(overhead);
  }
  const period = options.cpuPeriodUs ?? DEFAULT_CFS_PERIOD_US;
  const cpuShares = milliCpuToShares(requests.cpu?.milliValue() ?? 0n);
  const cpuQuota = options.enforceCpuLimits ? milliCpuToQuota(limits.cpu?.milliValue() ?? 0n, period) : -1;
  const memoryLimitBytes = limits.memory?.value() ?? 0n;
  if (qos === 'Guaranteed') return { cpuShares, cpuQuota, cpuPeriod: period, memoryLimitBytes, ...pids };

  const declared = everyContainerLimits(pod, options);
  return {
    cpuShares,
    ...(declared.cpu ? { cpuQuota, cpuPeriod: period } : {}),
    ...(declared.memory ? { memoryLimitBytes } : {}),
    ...pids,
  };
}

function everyContainerLimits(pod: V1Pod, options: FeatureGateOptions): { cpu: boolean; memory: boolean } {
  let cpu = true;
  let memory = true;
  const check = (limits: ResourceListInput | undefined, field: string): void => {
    const parsed = parseResourceList(limits, field);
    if (parsed.cpu === undefined || parsed.cpu.isZero()) cpu = false;
    if (parsed.memory === undefined || parsed.memory.isZero()) memory = false;
  };
  containersOf(pod).forEach((c, i) => check(c.resources?.limits, `spec.containers[${i}].resources.limits`));
  initContainersOf(pod).forEach((c, i) => check(c.resources?.limits, `spec.initContainers[${i}].resources.limits`));
  // Pod-level limits stand in for the containers' (PodLevelResources).
  if (podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod)) {
    const podLevel = parseResourceList(pod.spec?.resources?.limits, 'spec.resources.limits');
    if (podLevel.cpu !== undefined && !podLevel.cpu.isZero()) cpu = true;
    if (podLevel.memory !== undefined && !podLevel.memory.isZero()) memory = true;
  }
  return { cpu, memory };
}

/** The QoS tiers' settings: BestEffort always the minimum shares, Burstable the sum of its pods' cpu requests. */
export function qosResourceConfigs(activePods: readonly V1Pod[], options: FeatureGateOptions = {}): { burstable: ResourceConfig; besteffort: ResourceConfig } {
  let burstableMilli = 0n;
  for (const pod of activePods) {
    if (podQOSClass(pod, options) !== 'Burstable') continue;
    burstableMilli += podRequests(pod, options).cpu?.milliValue() ?? 0n;
  }
  return { burstable: { cpuShares: milliCpuToShares(burstableMilli) }, besteffort: { cpuShares: MIN_CPU_SHARES } };
}

export interface NodeAllocatableCgroupInput {
  /** Node capacity: cpu, memory and (from kernel.pid_max) pid, as quantities. */
  readonly capacity: ResourceListInput;
  readonly kubeReserved?: ResourceListInput;
  readonly systemReserved?: ResourceListInput;
  readonly enforceNodeAllocatable: readonly string[];
}

/**
 * The `kubepods` cgroup's settings: capacity − systemReserved − kubeReserved (never negative) when
 * enforceNodeAllocatable has "pods", else the whole capacity. Hard eviction thresholds are not
 * subtracted here, unlike the allocatable the node reports.
 */
export function nodeAllocatableResourceConfig(input: NodeAllocatableCgroupInput): ResourceConfig {
  const capacity = parseResourceList(input.capacity, 'capacity');
  const enforce = input.enforceNodeAllocatable.includes('pods');
  const system = enforce ? parseResourceList(input.systemReserved, 'systemReserved') : {};
  const kube = enforce ? parseResourceList(input.kubeReserved, 'kubeReserved') : {};
  const absolute = (name: string): Quantity | undefined => {
    const total = capacity[name];
    if (total === undefined) return undefined;
    let value = total;
    for (const part of [system[name], kube[name]]) if (part !== undefined) value = value.sub(part);
    return value.sign() < 0 ? Quantity.fromBigInt(0n) : value;
  };
  const cpu = absolute('cpu');
  const memory = absolute('memory');
  const pid = absolute('pid');
  return {
    ...(cpu !== undefined ? { cpuShares: milliCpuToShares(cpu.milliValue()) } : {}),
    ...(memory !== undefined ? { memoryLimitBytes: memory.value() } : {}),
    ...(pid !== undefined ? { pidsLimit: Number(pid.value()) } : {}),
  };
}
