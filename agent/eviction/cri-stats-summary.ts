/**
 * The stats summary the eviction manager reads, built from CRI stats (ListPodSandboxStats,
 * ListContainerStats, ImageFsInfo) and what only the machine knows — memory capacity, filesystem
 * capacities, the pid limit — in the stats/v1alpha1 shape that ./observations.ts turns into signal
 * observations and pod usage. This is the kubelet's summary provider with cadvisor replaced by a
 * declared machine. Pure: the manager fetches the stats and hands them in.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerStats__Output } from '../../proto/generated/cri/runtime/v1/ContainerStats.js';
import type { ImageFsInfoResponse__Output } from '../../proto/generated/cri/runtime/v1/ImageFsInfoResponse.js';
import type { PodSandboxStats__Output } from '../../proto/generated/cri/runtime/v1/PodSandboxStats.js';
import type { StatsSummary, SummaryContainerStats, SummaryFsStats, SummaryPodStats } from './observations.js';

/** One filesystem as the machine sees it. */
export interface FilesystemInfo {
  readonly capacityBytes: bigint;
  /** Bytes used by what the CRI stats do not count (the OS, other files on it). */
  readonly usedBytes?: bigint;
  /** Total inodes; without it the *.inodesFree signals are not observed. */
  readonly inodes?: bigint;
  readonly inodesUsed?: bigint;
  /** Measured free bytes (statfs on a real host): used as is, CRI usage is not added on top. */
  readonly availableBytes?: bigint;
  /** Measured free inodes, likewise. */
  readonly inodesFree?: bigint;
}

/** What the eviction manager needs to know about the node (declared for a fake machine in tests). */
export interface EvictionMachineInfo {
  readonly memoryCapacityBytes: bigint;
  /** Working set outside pods (system daemons, kernel caches); default 0. */
  readonly systemMemoryWorkingSetBytes?: bigint;
  /** Measured working set of the whole node (a real host): replaces system + pods. */
  readonly memoryWorkingSetBytes?: bigint;
  /** The pods cgroup's memory limit (capacity − kube-reserved − system-reserved); without it allocatableMemory.available is not observed. */
  readonly podsMemoryLimitBytes?: bigint;
  /** The filesystem of the kubelet root dir and the pod logs. */
  readonly nodefs: FilesystemInfo;
  /** A dedicated image filesystem (images and writable layers, as containerd keeps them); absent = nodefs. */
  readonly imagefs?: FilesystemInfo;
  /** kernel.pid_max (the pid.available capacity); without it pid.available is not observed. */
  readonly maxPid?: number;
  /** Processes outside pods; default 0. */
  readonly systemProcesses?: number;
  /** Measured processes of the whole node (a real host): replaces system + pods. */
  readonly runningProcesses?: number;
}

/** Bytes and inodes one directory tree holds on disk. */
export interface DiskUsage {
  readonly usedBytes: bigint;
  readonly inodesUsed: bigint;
}

/** What the agent measured on disk for one pod: its volume directories and its containers' log directories. */
export interface PodDiskUsage {
  /** By the pod's volume name; volumes without a directory are absent. */
  readonly volumes: ReadonlyArray<DiskUsage & { readonly name: string }>;
  /** By container name: the container's log directory, every restart's files together. */
  readonly containerLogs: ReadonlyMap<string, DiskUsage>;
}

/** The CRI stats of one round. */
export interface CriStatsSnapshot {
  readonly sandboxes: readonly PodSandboxStats__Output[];
  readonly containers: readonly ContainerStats__Output[];
  readonly imageFs: ImageFsInfoResponse__Output | null;
  /** When they were collected, in seconds. */
  readonly time: number;
  /** The agent's disk measurements by pod UID (the CRI reports neither volumes nor log files). */
  readonly podDisk?: ReadonlyMap<string, PodDiskUsage>;
}

const POD_UID_LABEL = 'io.kubernetes.pod.uid';

function amount(value: { value?: string | number } | null | undefined): bigint | undefined {
  if (value === null || value === undefined || value.value === undefined) return undefined;
  try {
    return BigInt(value.value);
  } catch {
    return undefined;
  }
}

function nonNegative(n: bigint): bigint {
  return n < 0n ? 0n : n;
}

function fsStats(fs: FilesystemInfo, usedBytes: bigint, usedInodes: bigint, time: number): SummaryFsStats {
  const available = fs.availableBytes ?? nonNegative(fs.capacityBytes - (fs.usedBytes ?? 0n) - usedBytes);
  let inodes = {};
  if (fs.inodes !== undefined) {
    const free = fs.inodesFree ?? nonNegative(fs.inodes - (fs.inodesUsed ?? 0n) - usedInodes);
    inodes = { inodes: fs.inodes, inodesUsed: fs.inodes - free, inodesFree: free };
  }
  return { time, capacityBytes: fs.capacityBytes, usedBytes: fs.capacityBytes - available, availableBytes: available, ...inodes };
}

/**
 * Builds the summary: node memory = system + every pod sandbox's working set against the machine's
 * capacity; the `pods` system container against podsMemoryLimitBytes; nodefs/imagefs usage = what the
 * machine declares plus image bytes and container writable layers (on imagefs when it is dedicated),
 * plus on nodefs the pod logs and volume directories the agent measured (a measured host ignores both);
 * curproc = system + pod processes. Pods are matched to `pods` by UID for their names.
 * @example criStatsSummary({ memoryCapacityBytes: 8n << 30n, nodefs: { capacityBytes: 100n << 30n } }, snapshot).node.memory
 */
export function criStatsSummary(machine: EvictionMachineInfo, snapshot: CriStatsSnapshot, pods: readonly V1Pod[] = []): StatsSummary {
  const time = snapshot.time;
  let writableBytes = 0n;
  let writableInodes = 0n;
  const containersByPod = new Map<string, SummaryContainerStats[]>();
  for (const c of snapshot.containers) {
    const bytes = amount(c.writableLayer?.usedBytes) ?? 0n;
    const inodes = amount(c.writableLayer?.inodesUsed) ?? 0n;
    writableBytes += bytes;
    writableInodes += inodes;
    const uid = c.attributes?.labels?.[POD_UID_LABEL] ?? '';
    if (uid === '') continue;
    const memory = amount(c.memory?.workingSetBytes);
    const list = containersByPod.get(uid) ?? [];
    const name = c.attributes?.metadata?.name ?? '';
    // One log directory holds every instance's files: it counts once, on the first instance listed.
    const logs = list.some((other) => other.name === name) ? undefined : snapshot.podDisk?.get(uid)?.containerLogs.get(name);
    list.push({
      name,
      ...(memory === undefined ? {} : { memory: { time, workingSetBytes: memory } }),
      rootfs: { time, usedBytes: bytes, inodesUsed: inodes },
      logs: { time, usedBytes: logs?.usedBytes ?? 0n, inodesUsed: logs?.inodesUsed ?? 0n },
    });
    containersByPod.set(uid, list);
  }

  const podsByUid = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
  const podStats = new Map<string, SummaryPodStats>();
  let podsWorkingSet = 0n;
  let podProcesses = 0n;
  for (const s of snapshot.sandboxes) {
    const uid = s.attributes?.metadata?.uid ?? '';
    if (uid === '') continue;
    const memory = amount(s.linux?.memory?.workingSetBytes);
    const processes = amount(s.linux?.process?.processCount);
    if (memory !== undefined) podsWorkingSet += memory;
    if (processes !== undefined) podProcesses += processes;
    // A pod can have an old sandbox next to its current one: add their figures up.
    const previous = podStats.get(uid);
    const workingSet = memory === undefined ? previous?.memory?.workingSetBytes : BigInt(previous?.memory?.workingSetBytes ?? 0n) + memory;
    const count = processes === undefined ? previous?.process_stats?.process_count : BigInt(previous?.process_stats?.process_count ?? 0n) + processes;
    const pod = podsByUid.get(uid);
    const volumes = snapshot.podDisk?.get(uid)?.volumes;
    podStats.set(uid, {
      podRef: { uid, name: pod?.metadata?.name ?? s.attributes?.metadata?.name ?? '', namespace: pod?.metadata?.namespace ?? s.attributes?.metadata?.namespace ?? '' },
      containers: containersByPod.get(uid) ?? [],
      ...(workingSet === undefined ? {} : { memory: { time, workingSetBytes: workingSet } }),
      ...(count === undefined ? {} : { process_stats: { process_count: count } }),
      ...(volumes ? { volume: volumes.map((v) => ({ time, name: v.name, usedBytes: v.usedBytes, inodesUsed: v.inodesUsed })) } : {}),
    });
  }

  const nodeWorkingSet = machine.memoryWorkingSetBytes ?? (machine.systemMemoryWorkingSetBytes ?? 0n) + podsWorkingSet;
  const curproc = machine.runningProcesses !== undefined ? BigInt(machine.runningProcesses) : BigInt(machine.systemProcesses ?? 0) + podProcesses;
  const images = snapshot.imageFs?.imageFilesystems?.[0];
  const imageBytes = amount(images?.usedBytes) ?? 0n;
  const imageInodes = amount(images?.inodesUsed) ?? 0n;
  // Pod logs and volume directories live on nodefs (the kubelet root dir and the log dir).
  let podDiskBytes = 0n;
  let podDiskInodes = 0n;
  for (const usage of snapshot.podDisk?.values() ?? []) {
    for (const u of [...usage.volumes, ...usage.containerLogs.values()]) {
      podDiskBytes += u.usedBytes;
      podDiskInodes += u.inodesUsed;
    }
  }
  let nodefs: SummaryFsStats;
  let imagefs: SummaryFsStats;
  if (machine.imagefs) {
    nodefs = fsStats(machine.nodefs, podDiskBytes, podDiskInodes, time);
    imagefs = fsStats(machine.imagefs, imageBytes + writableBytes, imageInodes + writableInodes, time);
  } else {
    nodefs = fsStats(machine.nodefs, imageBytes + writableBytes + podDiskBytes, imageInodes + writableInodes + podDiskInodes, time);
    imagefs = nodefs;
  }
  return {
    node: {
      memory: { time, workingSetBytes: nodeWorkingSet, availableBytes: nonNegative(machine.memoryCapacityBytes - nodeWorkingSet) },
      ...(machine.podsMemoryLimitBytes === undefined
        ? {}
        : { systemContainers: [{ name: 'pods', memory: { time, workingSetBytes: podsWorkingSet, availableBytes: nonNegative(machine.podsMemoryLimitBytes - podsWorkingSet) } }] }),
      fs: nodefs,
      runtime: { imageFs: imagefs, containerFs: imagefs },
      ...(machine.maxPid === undefined ? {} : { rlimit: { time, maxpid: BigInt(machine.maxPid), curproc } }),
    },
    pods: [...podStats.values()],
  };
}
