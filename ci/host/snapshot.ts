/**
 * A snapshot of the host state a runtime run can leak (processes, mounts, network namespaces, links, temp
 * entries, runtime cgroups, iptables chains), and the difference between two snapshots. Used around a whole
 * `npm test` in CI (.ci/run) and, attributed to one run, by the environment's own leak test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { runtimeCgroupDirs } from './cgroups.js';
import { mountPoints } from './mounts.js';
import { listProcesses, readProcess } from './proc.js';

export interface HostSnapshot {
  /** "pid startTime argv" of user-space processes (kernel threads, this process and its ancestors left out). */
  readonly processes: readonly string[];
  readonly mounts: readonly string[];
  readonly netns: readonly string[];
  readonly links: readonly string[];
  readonly tmpEntries: readonly string[];
  readonly cgroupDirs: readonly string[];
  readonly iptablesChains: readonly string[];
  readonly runContainerd: readonly string[];
  /** libcni's result cache and host-local's default allocation dirs. */
  readonly cniState: readonly string[];
}

export type HostDiff = { readonly [K in keyof HostSnapshot]: readonly string[] };

function ancestorsOfSelf(): Set<number> {
  const pids = new Set<number>();
  for (let pid: number | undefined = process.pid; pid !== undefined && pid > 0 && !pids.has(pid); pid = readProcess(pid)?.ppid) pids.add(pid);
  return pids;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...listTree(path));
    else out.push(path);
  }
  return out;
}

function iptablesChains(): string[] {
  const chains: string[] = [];
  for (const table of ['nat', 'filter']) {
    const result = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' });
    if (result.status !== 0) continue;
    for (const line of result.stdout.split('\n')) if (line.startsWith(':')) chains.push(`${table}/${line.slice(1).split(' ')[0]}`);
  }
  return chains.sort();
}

export function takeHostSnapshot(): HostSnapshot {
  const skip = ancestorsOfSelf();
  const processes = listProcesses()
    .filter((p) => p.pid !== 2 && p.ppid !== 2 && p.argv.length > 0 && !skip.has(p.pid))
    .map((p) => `${p.pid} ${p.startTime} ${p.argv.join(' ')}`);
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return {
    processes: processes.sort(),
    mounts: [...new Set(mountPoints())].sort(),
    netns: listDir('/run/netns'),
    links: links.sort(),
    tmpEntries: listDir(tmpdir()),
    cgroupDirs: runtimeCgroupDirs().sort(),
    iptablesChains: iptablesChains(),
    runContainerd: listTree('/run/containerd'),
    cniState: [...listTree('/var/lib/cni'), ...listTree('/run/cni')],
  };
}

/** What `after` has that `before` did not. */
export function diffSnapshots(before: HostSnapshot, after: HostSnapshot): HostDiff {
  // A process is identified by pid and start time: its argv may change (programs rewrite their title).
  const identity = (key: keyof HostSnapshot, item: string): string => (key === 'processes' ? item.split(' ', 2).join(' ') : item);
  const added = (key: keyof HostSnapshot): string[] => {
    const known = new Set(before[key].map((item) => identity(key, item)));
    return after[key].filter((item) => !known.has(identity(key, item)));
  };
  return {
    processes: added('processes'),
    mounts: added('mounts'),
    netns: added('netns'),
    links: added('links'),
    tmpEntries: added('tmpEntries'),
    cgroupDirs: added('cgroupDirs'),
    iptablesChains: added('iptablesChains'),
    runContainerd: added('runContainerd'),
    cniState: added('cniState'),
  };
}

export function isEmptyDiff(diff: HostDiff): boolean {
  return Object.values(diff).every((items) => items.length === 0);
}

export function formatDiff(diff: HostDiff): string {
  return Object.entries(diff)
    .filter(([, items]) => items.length > 0)
    .map(([key, items]) => `${key}:\n${(items as string[]).map((item) => `  + ${item}`).join('\n')}`)
    .join('\n');
}
