/**
 * Cgroup directories the runtime creates for pods (the cgroupfs driver: /kubepods/... from the pods'
 * cgroup_parent, /k8s.io/<id> when none is given). containerd removes a container's own cgroup but not these
 * parents, so a run records what existed before it started and removes the empty ones it added.
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';
export const RUNTIME_CGROUP_PARENTS = ['kubepods', 'kubepods.slice', 'k8s.io'] as const;

/** Every directory at or below the runtime parents in every mounted hierarchy, parents before children. */
export function runtimeCgroupDirs(root: string = CGROUP_ROOT): string[] {
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    dirs.push(dir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      const child = join(dir, name);
      try {
        if (statSync(child).isDirectory()) walk(child);
      } catch {
        // removed meanwhile
      }
    }
  };
  let hierarchies: string[] = [];
  try {
    hierarchies = readdirSync(root).map((name) => join(root, name));
  } catch {
    return dirs;
  }
  // cgroup v2 mounted directly at the root is a hierarchy of its own.
  for (const hierarchy of [root, ...hierarchies]) {
    for (const parent of RUNTIME_CGROUP_PARENTS) {
      const dir = join(hierarchy, parent);
      if (existsSync(dir)) walk(dir);
    }
  }
  return dirs;
}

/**
 * Removes (deepest first) the directories that did not exist in `baseline`. A cgroup that still has processes or
 * children (EBUSY) belongs to a concurrent run on the same host (this run's processes are gone by now): kept.
 */
export function removeAddedCgroupDirs(baseline: ReadonlySet<string>, root: string = CGROUP_ROOT): string[] {
  const problems: string[] = [];
  const added = runtimeCgroupDirs(root)
    .filter((dir) => !baseline.has(dir))
    .sort((a, b) => b.length - a.length);
  for (const dir of added) {
    try {
      rmdirSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') problems.push(`cgroup ${dir}: ${code ?? (error as Error).message}`);
    }
  }
  return problems;
}
