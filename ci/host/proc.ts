/** Synchronous reads of /proc: usable from exit handlers, where nothing asynchronous runs any more. */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Clock ticks since boot at which the process started: with the pid, identifies it across pid reuse. */
  readonly startTime: string;
  readonly comm: string;
  readonly argv: readonly string[];
}

/** Parses /proc/<pid>/stat; the command name is in parentheses and may itself contain spaces or parentheses. */
export function parseStat(stat: string): { pid: number; comm: string; ppid: number; startTime: string } {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`malformed /proc stat line: ${stat.slice(0, 80)}`);
  const rest = stat.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); ppid is field 4, starttime field 22.
  return { pid: Number(stat.slice(0, open).trim()), comm: stat.slice(open + 1, close), ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
    return { pid, ppid: stat.ppid, startTime: stat.startTime, comm: stat.comm, argv };
  } catch {
    return undefined; // exited meanwhile
  }
}

export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info) processes.push(info);
  }
  return processes;
}

/** The given processes and all their descendants (children before parents are not guaranteed). */
export function withDescendants(roots: readonly number[], processes: readonly ProcessInfo[] = listProcesses()): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/** True while the process with this pid and start time is alive (a reused pid does not count). */
export function isAlive(pid: number, startTime: string): boolean {
  return readProcess(pid)?.startTime === startTime;
}

export function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
