import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../clock/clock.js';
import { realClock } from '../clock/real-clock.js';
import { samePayload, userVisibleNames, type Payload } from './projection.js';

const DATA_LINK = '..data';
const DATA_TMP_LINK = '..data_tmp';

/**
 * Writes a projected volume the way kubelet's AtomicWriter does, so readers never see a mix of old
 * and new files:
 *   <dir>/..2026_11_27_06_44_00.XXXXXX/   the files of one version
 *   <dir>/..data -> ..2026_11_27_...      switched with one rename(2)
 *   <dir>/<name> -> ..data/<name>         what the container sees, one link per top-level name
 * An unchanged payload writes nothing. Returns whether anything changed.
 */
export function writeAtomically(targetDir: string, payload: Payload, clock: Clock = realClock): boolean {
  mkdirSync(targetDir, { recursive: true });
  const oldTsName = readLink(join(targetDir, DATA_LINK));
  const oldTsDir = oldTsName ? join(targetDir, oldTsName) : undefined;
  const current = oldTsDir ? readTree(oldTsDir) : new Map<string, { data: Buffer; mode: number }>();
  const oldVisible = userVisibleNames(current.keys());
  const newVisible = userVisibleNames(payload.keys());
  const toRemove = [...oldVisible].filter((name) => !newVisible.has(name));

  const changed = !oldTsDir || !samePayload(payload, current) || toRemove.length > 0;
  if (changed) {
    const tsDir = mkdtempSync(join(targetDir, timestampPrefix(clock.now())));
    chmodSync(tsDir, 0o755);
    for (const [path, file] of payload) {
      const full = join(tsDir, path);
      mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
      writeFileSync(full, file.data, { mode: file.mode });
      chmodSync(full, file.mode); // the umask must not narrow the requested mode
    }
    const tmpLink = join(targetDir, DATA_TMP_LINK);
    rmSync(tmpLink, { force: true });
    symlinkSync(relativeName(tsDir), tmpLink);
    renameSync(tmpLink, join(targetDir, DATA_LINK));
  }
  for (const name of newVisible) {
    const link = join(targetDir, name);
    if (readLink(link) === undefined) {
      rmSync(link, { force: true, recursive: true });
      symlinkSync(join(DATA_LINK, name), link);
    }
  }
  for (const name of toRemove) rmSync(join(targetDir, name), { force: true });
  if (changed && oldTsDir) rmSync(oldTsDir, { recursive: true, force: true });
  return changed;
}

/** What a projected volume directory currently shows through `..data` (path → content, mode). */
export function readProjectedVolume(targetDir: string): Map<string, { data: Buffer; mode: number }> {
  const ts = readLink(join(targetDir, DATA_LINK));
  return ts ? readTree(join(targetDir, ts)) : new Map();
}

function readTree(root: string): Map<string, { data: Buffer; mode: number }> {
  const out = new Map<string, { data: Buffer; mode: number }>();
  const walk = (dir: string, prefix: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = statSync(full);
      if (st.isDirectory()) walk(full, rel);
      else out.set(rel, { data: readFileSync(full), mode: st.mode & 0o777 });
    }
  };
  try {
    walk(root, '');
  } catch {
    return new Map();
  }
  return out;
}

function readLink(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function relativeName(path: string): string {
  return path.slice(dirname(path).length + 1);
}

/** `..2006_01_02_15_04_05.` in UTC, the prefix of kubelet's timestamped directories. */
function timestampPrefix(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `..${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}.`;
}
