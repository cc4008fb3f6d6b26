/**
 * Which files a container log rotation keeps, compresses and removes (upstream
 * kuberuntime/logs/container_log_manager.go: filterUnusedLogs, removeExcessLogs, rotated names). Pure:
 * names in, decisions out; ./container-log-manager.ts does the file operations.
 */

export const COMPRESS_SUFFIX = '.gz';
export const TMP_SUFFIX = '.tmp';

/**
 * Go's "20060102-150405" layout in UTC: the suffix of a rotated log.
 * @example rotationTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5)) // '20260102-030405'
 */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/**
 * Splits rotated files into those still in use and leftovers of an interrupted rotation: temporary
 * files, and plain files whose compressed copy already exists.
 * @example filterUnusedLogs(['0.log.1', '0.log.1.gz', '0.log.2.gz.tmp']) // { inUse: ['0.log.1.gz'], unused: ['0.log.1', '0.log.2.gz.tmp'] }
 */
export function filterUnusedLogs(logs: readonly string[]): { inUse: string[]; unused: string[] } {
  const inUse: string[] = [];
  const unused: string[] = [];
  for (const log of logs) {
    const used = log.endsWith(TMP_SUFFIX) ? false : log.endsWith(COMPRESS_SUFFIX) ? true : !logs.includes(log + COMPRESS_SUFFIX);
    (used ? inUse : unused).push(log);
  }
  return { inUse, unused };
}

/**
 * The rotated files to remove before a new rotation, oldest first: the runtime is about to start a new
 * current file and the current one becomes rotated, so at most maxFiles − 2 older ones may stay.
 * @example excessLogs(['0.log.3', '0.log.1.gz', '0.log.2.gz'], 3) // { remove: ['0.log.1.gz', '0.log.2.gz'], keep: ['0.log.3'] }
 */
export function excessLogs(logs: readonly string[], maxFiles: number): { remove: string[]; keep: string[] } {
  const sorted = [...logs].sort();
  const keepCount = Math.max(0, maxFiles - 2);
  const cut = Math.max(0, sorted.length - keepCount);
  return { remove: sorted.slice(0, cut), keep: sorted.slice(cut) };
}
