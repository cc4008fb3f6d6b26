/**
 * Which rotated log files of a container to delete and which to compress before the current log is
 * rotated (upstream pkg/kubelet/logs/container_log_manager.go): with maxFiles in total, the current log
 * and the one about to be rotated take two places, so only the newest maxFiles−2 rotated files stay;
 * every rotated file but the newest is gzip-compressed. Pure: names in, decisions out.
 */

export interface RotationPlan {
  readonly remove: readonly string[];
  readonly compress: readonly string[];
}

/** Rotated files of `logPath` are `<logPath>.<timestamp>[.gz]`; `.tmp` leftovers are removed. */
export function planRotation(logPath: string, siblings: readonly string[], maxFiles: number): RotationPlan {
  const prefix = `${logPath}.`;
  const rotated = siblings.filter((f) => f.startsWith(prefix) && !f.endsWith('.tmp')).sort();
  const tmp = siblings.filter((f) => f.startsWith(prefix) && f.endsWith('.tmp'));
  const keep = Math.max(0, maxFiles - 2);
  const excess = rotated.length > keep ? rotated.slice(0, rotated.length - keep) : [];
  const kept = rotated.slice(excess.length);
  const compress = kept.slice(0, -1).filter((f) => !f.endsWith('.gz'));
  return { remove: [...tmp, ...excess], compress };
}

/** The rotated name of a log: `<logPath>.<YYYYMMDD-HHMMSS>` in UTC, as upstream's timestamp format. */
export function rotatedName(logPath: string, nowMs: number): string {
  const d = new Date(nowMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${logPath}.${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}
