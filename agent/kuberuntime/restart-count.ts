import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { podLogsDirectory } from './labels.js';

/**
 * The restart count of a container the runtime has no record of (upstream calcRestartCountByLogDir):
 * when a runtime loses its state (a node reboot with containerd's state on tmpfs, say) the kubelet
 * would start again at 0 and write into 0.log, which already exists. So it continues after the highest
 * `<N>.log` (rotated `<N>.log.<timestamp>` included) left in the container's log directory.
 */

export interface LogDirEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/** Like upstream's pattern, anchored at the start only: `3.log`, `3.log.20240101-000000`, `3.log.gz`. */
const RESTART_LOG_NAME = /^(\d+)\.log(\..*)?/;

/** One more than the highest restart count named by a log file, 0 when there is none. */
export function restartCountFromLogNames(entries: readonly LogDirEntry[]): number {
  let next = 0;
  for (const entry of entries) {
    if (entry.isDirectory) continue;
    const m = RESTART_LOG_NAME.exec(entry.name);
    if (!m) continue;
    const n = Number(m[1]);
    // Go's Atoi rejects what does not fit an int; such a file was not written by a kubelet.
    if (!Number.isSafeInteger(n)) continue;
    next = Math.max(next, n + 1);
  }
  return next;
}

/** upstream BuildContainerLogsDirectory: <podLogsDir>/<namespace>_<name>_<uid>/<container>. */
export function containerLogsDirectory(podLogsDir: string, namespace: string, name: string, uid: string, containerName: string): string {
  return join(podLogsDirectory(podLogsDir, namespace, name, uid), containerName);
}

/** Reads the directory (synchronously, as the files at a container start); a missing directory means a first start (0), other errors are thrown. */
export async function restartCountFromLogDir(dir: string): Promise<number> {
  // Looked for first, as upstream stats it: a container's first start has no directory yet, and
  // readdir's ENOENT is an exception (with its stack) on every pod start.
  if (!existsSync(dir)) return 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  return restartCountFromLogNames(entries.map((d) => ({ name: d.name, isDirectory: d.isDirectory() })));
}
