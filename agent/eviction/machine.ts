/**
 * Where the eviction manager's machine facts come from: a declared machine (tests, `up`), whose usage
 * is what the CRI stats say, or the real host, measured the way cadvisor does (memory working set from
 * /proc/meminfo, statfs of the kubelet root dir, pid_max and the current task count).
 */
import { readFileSync, statfsSync } from 'node:fs';
import type { MachineInfo } from '../nodestatus/machine.js';
import { parseQuantity } from '../resources/quantity.js';
import type { EvictionMachineInfo, FilesystemInfo } from './cri-stats-summary.js';

export interface MachineReservations {
  /** kubeReserved / systemReserved maps (quantities by resource name). */
  readonly kubeReserved?: Readonly<Record<string, string>>;
  readonly systemReserved?: Readonly<Record<string, string>>;
  /** Default ["pods"]: the pods cgroup is limited, so allocatableMemory.available is observed. */
  readonly enforceNodeAllocatable?: readonly string[];
}

/** The pods cgroup limit: capacity − kube-reserved − system-reserved memory (hard eviction is not subtracted). */
function podsMemoryLimit(capacity: bigint, r: MachineReservations): bigint | undefined {
  if (!(r.enforceNodeAllocatable ?? ['pods']).includes('pods')) return undefined;
  const reserved = (m: Readonly<Record<string, string>> | undefined) => (m?.['memory'] ? parseQuantity(m['memory']).value() : 0n);
  const limit = capacity - reserved(r.kubeReserved) - reserved(r.systemReserved);
  return limit < 0n ? 0n : limit;
}

/**
 * A declared machine for the eviction manager: the node's capacity from `machine`, usage only what the
 * runtime reports (plus `systemMemoryWorkingSetBytes` / nodefs `usedBytes` when given).
 * @example declaredEvictionMachine(fakeMachine({ memory: 2n << 30n }), {}, { maxPid: 32768 })
 */
export function declaredEvictionMachine(
  machine: Pick<MachineInfo, 'memoryBytes' | 'ephemeralStorageBytes'>,
  reservations: MachineReservations = {},
  extra: Partial<EvictionMachineInfo> = {},
): EvictionMachineInfo {
  const podsLimit = podsMemoryLimit(machine.memoryBytes, reservations);
  return {
    memoryCapacityBytes: machine.memoryBytes,
    nodefs: { capacityBytes: machine.ephemeralStorageBytes },
    maxPid: 4_194_304,
    ...(podsLimit === undefined ? {} : { podsMemoryLimitBytes: podsLimit }),
    ...extra,
  };
}

function meminfo(text: string, key: string): bigint | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? BigInt(m[1]!) * 1024n : undefined;
}

function readNumber(path: string): number | undefined {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** statfs of `path` as a measured filesystem. */
export function measuredFilesystem(path: string): FilesystemInfo {
  const fs = statfsSync(path, { bigint: true });
  return { capacityBytes: fs.blocks * fs.bsize, availableBytes: fs.bavail * fs.bsize, inodes: fs.files, inodesFree: fs.ffree };
}

/**
 * The real host, measured at each call: memory working set = MemTotal − MemAvailable, nodefs = statfs
 * of `rootDir`, imagefs = statfs of `imageFsPath` when it is another device, pid limit = min(pid_max,
 * threads-max) and the running task count from /proc/loadavg.
 */
export function hostEvictionMachine(rootDir: string, reservations: MachineReservations = {}, imageFsPath?: string): EvictionMachineInfo {
  const text = readFileSync('/proc/meminfo', 'utf8');
  const total = meminfo(text, 'MemTotal') ?? 0n;
  const available = meminfo(text, 'MemAvailable') ?? meminfo(text, 'MemFree') ?? 0n;
  const pidMax = readNumber('/proc/sys/kernel/pid_max');
  const threadsMax = readNumber('/proc/sys/kernel/threads-max');
  const maxPid = pidMax !== undefined && threadsMax !== undefined ? Math.min(pidMax, threadsMax) : (pidMax ?? threadsMax);
  let tasks: number | undefined;
  try {
    tasks = Number(/\d+\/(\d+)/.exec(readFileSync('/proc/loadavg', 'utf8'))?.[1]);
  } catch {
    tasks = undefined;
  }
  const nodefs = measuredFilesystem(rootDir);
  let imagefs: FilesystemInfo | undefined;
  if (imageFsPath !== undefined) {
    try {
      const candidate = measuredFilesystem(imageFsPath);
      if (candidate.capacityBytes !== nodefs.capacityBytes || candidate.inodes !== nodefs.inodes) imagefs = candidate;
    } catch {
      imagefs = undefined;
    }
  }
  const podsLimit = podsMemoryLimit(total, reservations);
  return {
    memoryCapacityBytes: total,
    memoryWorkingSetBytes: total - available,
    nodefs,
    ...(imagefs ? { imagefs } : {}),
    ...(maxPid !== undefined ? { maxPid } : {}),
    ...(tasks !== undefined && Number.isFinite(tasks) ? { runningProcesses: tasks } : {}),
    ...(podsLimit === undefined ? {} : { podsMemoryLimitBytes: podsLimit }),
  };
}
