/**
 * From a kubelet stats summary (stats/v1alpha1, the `/stats/summary` JSON) to what the eviction
 * logic reads (kubelet-semantics §5.1; upstream makeSignalObservations, memoryUsage, podDiskUsage,
 * localVolumeNames): node signal observations and per-pod usage.
 */
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { Quantity } from '../resources/quantity.js';
import type { SignalObservation, SignalObservations } from './evaluation.js';
import type { ContainerUsage } from './message.js';
import type { PodUsage } from './ranking.js';
import type { EvictionSignal } from './signals.js';

type Amount = number | bigint;
/** RFC 3339 text as in the JSON, or seconds. */
type Time = string | number;

export interface SummaryMemoryStats {
  readonly time?: Time;
  readonly availableBytes?: Amount;
  readonly workingSetBytes?: Amount;
}

export interface SummaryFsStats {
  readonly time?: Time;
  readonly availableBytes?: Amount;
  readonly capacityBytes?: Amount;
  readonly usedBytes?: Amount;
  readonly inodesFree?: Amount;
  readonly inodes?: Amount;
  readonly inodesUsed?: Amount;
}

export interface SummaryContainerStats {
  readonly name: string;
  readonly memory?: SummaryMemoryStats;
  readonly rootfs?: SummaryFsStats;
  readonly logs?: SummaryFsStats;
}

export interface SummaryPodStats {
  readonly podRef: { readonly name?: string; readonly namespace?: string; readonly uid: string };
  readonly containers?: readonly SummaryContainerStats[];
  readonly memory?: SummaryMemoryStats;
  readonly volume?: ReadonlyArray<SummaryFsStats & { readonly name: string }>;
  readonly process_stats?: { readonly process_count?: Amount };
}

export interface StatsSummary {
  readonly node: {
    readonly memory?: SummaryMemoryStats;
    readonly systemContainers?: readonly SummaryContainerStats[];
    readonly fs?: SummaryFsStats;
    readonly runtime?: { readonly imageFs?: SummaryFsStats; readonly containerFs?: SummaryFsStats };
    readonly rlimit?: { readonly time?: Time; readonly maxpid?: Amount; readonly curproc?: Amount };
  };
  readonly pods?: readonly SummaryPodStats[];
}

function big(x: Amount): bigint {
  return typeof x === 'bigint' ? x : BigInt(Math.trunc(x));
}

function seconds(time: Time | undefined): number | undefined {
  if (time === undefined) return undefined;
  if (typeof time === 'number') return time;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function observation(available: bigint, capacity: bigint, format: 'BinarySI' | 'DecimalSI', time: Time | undefined): SignalObservation {
  const at = seconds(time);
  return {
    available: Quantity.fromBigInt(available, format),
    capacity: Quantity.fromBigInt(capacity, format),
    ...(at === undefined ? {} : { time: at }),
  };
}

function memoryObservation(memory: SummaryMemoryStats | undefined): SignalObservation | undefined {
  if (memory?.availableBytes === undefined || memory.workingSetBytes === undefined) return undefined;
  const available = big(memory.availableBytes);
  return observation(available, available + big(memory.workingSetBytes), 'BinarySI', memory.time);
}

function fsObservations(fs: SummaryFsStats | undefined, bytes: EvictionSignal, inodes: EvictionSignal, out: Partial<Record<EvictionSignal, SignalObservation>>): void {
  if (fs === undefined) return;
  if (fs.availableBytes !== undefined && fs.capacityBytes !== undefined) {
    out[bytes] = observation(big(fs.availableBytes), big(fs.capacityBytes), 'BinarySI', fs.time);
  }
  if (fs.inodesFree !== undefined && fs.inodes !== undefined) {
    out[inodes] = observation(big(fs.inodesFree), big(fs.inodes), 'DecimalSI', fs.time);
  }
}

/**
 * Node observations per signal: memory.available = available (capacity = available + working
 * set), allocatableMemory.available from the `pods` system container, filesystem bytes and inodes,
 * pid.available = maxpid − curproc. Signals whose stats are missing are absent.
 * @example signalObservationsFromSummary({ node: { memory: { availableBytes: 1 << 30, workingSetBytes: 7 << 30 } } })['memory.available']
 *   // { available: 1Gi, capacity: 8Gi }
 */
export function signalObservationsFromSummary(summary: StatsSummary): SignalObservations {
  const out: Partial<Record<EvictionSignal, SignalObservation>> = {};
  const node = summary.node;
  const memory = memoryObservation(node.memory);
  if (memory !== undefined) out['memory.available'] = memory;
  const pods = memoryObservation(node.systemContainers?.find((c) => c.name === 'pods')?.memory);
  if (pods !== undefined) out['allocatableMemory.available'] = pods;
  fsObservations(node.fs, 'nodefs.available', 'nodefs.inodesFree', out);
  fsObservations(node.runtime?.imageFs, 'imagefs.available', 'imagefs.inodesFree', out);
  fsObservations(node.runtime?.containerFs, 'containerfs.available', 'containerfs.inodesFree', out);
  const rlimit = node.rlimit;
  if (rlimit?.maxpid !== undefined && rlimit.curproc !== undefined) {
    out['pid.available'] = observation(big(rlimit.maxpid) - big(rlimit.curproc), big(rlimit.maxpid), 'DecimalSI', rlimit.time);
  }
  return out;
}

/** Upstream localVolumeNames: hostPath and local ephemeral volumes (gitRepo, disk emptyDir, configMap). */
export function localVolumeNames(pod: V1Pod): string[] {
  const isLocal = (v: V1Volume) =>
    v.hostPath !== undefined ||
    v.gitRepo !== undefined ||
    (v.emptyDir !== undefined && (v.emptyDir.medium ?? '') === '') ||
    v.configMap !== undefined;
  return (pod.spec?.volumes ?? []).filter(isLocal).map((v) => v.name);
}

/**
 * A pod's usage as ranking and eviction messages read it: pod-level working set, container rootfs
 * and logs summed, local volumes only, process count, plus per-container figures.
 * @example podUsageFromStats(pod, summary.pods[0]).memoryWorkingSetBytes // 314572800n
 */
export function podUsageFromStats(
  pod: V1Pod,
  stats: SummaryPodStats,
): PodUsage & { readonly containers: readonly ContainerUsage[]; readonly volumes: ReadonlyArray<{ readonly name: string; readonly usedBytes: bigint }> } {
  let rootfsBytes = 0n;
  let logsBytes = 0n;
  let rootfsInodes = 0n;
  let logsInodes = 0n;
  const containers: ContainerUsage[] = [];
  for (const c of stats.containers ?? []) {
    rootfsBytes += big(c.rootfs?.usedBytes ?? 0);
    logsBytes += big(c.logs?.usedBytes ?? 0);
    rootfsInodes += big(c.rootfs?.inodesUsed ?? 0);
    logsInodes += big(c.logs?.inodesUsed ?? 0);
    containers.push({
      name: c.name,
      ...(c.memory?.workingSetBytes === undefined ? {} : { memoryWorkingSetBytes: big(c.memory.workingSetBytes) }),
      ...(c.rootfs?.usedBytes === undefined ? {} : { rootfsBytes: big(c.rootfs.usedBytes) }),
      ...(c.logs?.usedBytes === undefined ? {} : { logsBytes: big(c.logs.usedBytes) }),
    });
  }
  let localVolumesBytes = 0n;
  let localVolumesInodes = 0n;
  for (const name of localVolumeNames(pod)) {
    const volume = stats.volume?.find((v) => v.name === name);
    localVolumesBytes += big(volume?.usedBytes ?? 0);
    localVolumesInodes += big(volume?.inodesUsed ?? 0);
  }
  const processes = stats.process_stats?.process_count;
  return {
    ...(stats.memory?.workingSetBytes === undefined ? {} : { memoryWorkingSetBytes: big(stats.memory.workingSetBytes) }),
    rootfsBytes,
    logsBytes,
    localVolumesBytes,
    rootfsInodes,
    logsInodes,
    localVolumesInodes,
    ...(processes === undefined ? {} : { processes: Number(processes) }),
    containers,
    // Every measured volume, local or not: an emptyDir's sizeLimit applies whatever its medium.
    volumes: (stats.volume ?? []).flatMap((v) => (v.usedBytes === undefined ? [] : [{ name: v.name, usedBytes: big(v.usedBytes) }])),
  };
}
