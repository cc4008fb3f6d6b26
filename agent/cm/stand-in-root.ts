import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A plain directory shaped like a cgroup v1 mount root (one directory per hierarchy, cpuset's CPUs
 * and memory nodes at the top), for running the cgroup manager where no real cgroups are wanted: unit
 * tests and agents on the fake runtime. The manager treats it as a stand-in (see ./cgroup-manager.ts).
 */

export const STAND_IN_HIERARCHIES = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd'] as const;

/** Creates the hierarchies under `dir` (which may exist) and returns `dir`. */
export function createStandInCgroupRoot(dir: string): string {
  for (const name of STAND_IN_HIERARCHIES) mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, 'cpuset', 'cpuset.cpus'), '0-1\n');
  writeFileSync(join(dir, 'cpuset', 'cpuset.mems'), '0\n');
  return dir;
}
