/** Mount points from /proc/self/mountinfo and a synchronous lazy unmount of everything below a directory. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** mountinfo escapes space, tab, newline and backslash as octal (\040). */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''));
}

export function mountPoints(): string[] {
  return parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'));
}

export function isBelow(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

/** Lazily unmounts every mount at or below `dir`, deepest first. Returns what could not be unmounted. */
export function unmountAllBelow(dir: string): string[] {
  const failed: string[] = [];
  for (let round = 0; round < 3; round++) {
    const targets = mountPoints()
      .filter((path) => isBelow(path, dir))
      .sort((a, b) => b.length - a.length);
    if (targets.length === 0) return [];
    failed.length = 0;
    for (const target of targets) {
      const result = spawnSync('umount', ['-l', target], { encoding: 'utf8' });
      if (result.status !== 0) failed.push(`${target}: ${(result.stderr ?? '').trim()}`);
    }
  }
  const left = mountPoints().filter((path) => isBelow(path, dir));
  return left.length === 0 ? [] : failed.length > 0 ? failed : left;
}
