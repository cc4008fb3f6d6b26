/**
 * What the eviction manager cannot learn from the CRI, measured on the node's disk the way the kubelet's
 * du-based volume metrics do (upstream pkg/volume/util/fs DiskUsage): every file and directory below a
 * path, allocated blocks × 512 bytes, each inode counted once (hard links), without following symlinks
 * or crossing into other filesystems' mounts. Per pod: its volume directories (emptyDir, configMap,
 * secret, downwardAPI, projected) and each container's log directory (all restarts together).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { podLogsDirectory } from '../kuberuntime/labels.js';
import { podName, podNamespace, podUid } from '../kuberuntime/pod-helpers.js';
import { PLUGIN, podVolumeDir } from '../volumes/paths.js';
import type { DiskUsage, PodDiskUsage } from './cri-stats-summary.js';

/** Blocks and inodes under `path`; null when it does not exist. Entries vanishing during the walk are skipped. */
export async function diskUsage(path: string): Promise<DiskUsage | null> {
  let root;
  try {
    root = await lstat(path, { bigint: true });
  } catch {
    return null;
  }
  const seen = new Set<bigint>();
  let bytes = 0n;
  const walk = async (p: string, st: typeof root): Promise<void> => {
    if (st.dev !== root.dev) return;
    if (!seen.has(st.ino)) {
      seen.add(st.ino);
      bytes += st.blocks * 512n;
    }
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(p);
    } catch {
      return;
    }
    for (const name of names) {
      const child = join(p, name);
      try {
        await walk(child, await lstat(child, { bigint: true }));
      } catch {
        // Removed while we walked: it no longer uses the disk.
      }
    }
  };
  await walk(path, root);
  return { usedBytes: bytes, inodesUsed: BigInt(seen.size) };
}

const MEASURED_VOLUMES = ['emptyDir', 'configMap', 'secret', 'downwardAPI', 'projected'] as const;

export interface PodDiskUsagePaths {
  /** The kubelet root dir (pod volume directories live under <root>/pods/<uid>/volumes). */
  readonly rootDir: string;
  /** podLogsDir (container logs live under <dir>/<namespace>_<name>_<uid>/<container>). */
  readonly podLogsDir: string;
}

/** One pod's measured volumes and container log directories. */
export async function measurePodDiskUsage(pod: V1Pod, paths: PodDiskUsagePaths): Promise<PodDiskUsage> {
  const uid = podUid(pod);
  const volumes: Array<DiskUsage & { name: string }> = [];
  for (const v of pod.spec?.volumes ?? []) {
    const kind = MEASURED_VOLUMES.find((k) => v[k] !== undefined && v[k] !== null);
    if (kind === undefined) continue;
    const usage = await diskUsage(podVolumeDir(paths.rootDir, uid, PLUGIN[kind], v.name));
    if (usage !== null) volumes.push({ name: v.name, ...usage });
  }
  const logsDir = podLogsDirectory(paths.podLogsDir, podNamespace(pod), podName(pod), uid);
  const containerLogs = new Map<string, DiskUsage>();
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  for (const name of names) {
    const usage = await diskUsage(join(logsDir, name));
    if (usage !== null) containerLogs.set(name, usage);
  }
  return { volumes, containerLogs };
}

/** Every pod's measurements by UID (what EvictionManagerOptions.podDiskUsage returns). */
export async function measurePodsDiskUsage(pods: readonly V1Pod[], paths: PodDiskUsagePaths): Promise<Map<string, PodDiskUsage>> {
  const out = new Map<string, PodDiskUsage>();
  for (const pod of pods) out.set(podUid(pod), await measurePodDiskUsage(pod, paths));
  return out;
}
