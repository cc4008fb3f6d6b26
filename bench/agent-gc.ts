/**
 * Garbage-collection pauses and CPU readings of the calling thread, summed by kind from the perf_hooks 'gc' entries, for
 * bench/agent.ts: the burst's CPU per pod is partly the collector's, and its young-generation share
 * says whether allocation in hot paths is what costs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';

export interface GcTotals {
  /** Scavenges (young generation) and their total pause, ms. */
  minor: number;
  minorMs: number;
  /** Mark-compacts and incremental marking steps (old generation), ms. */
  major: number;
  majorMs: number;
}

/** Starts summing this thread's GC pauses into the returned object (for the life of the thread). */
export function watchGc(): GcTotals {
  const totals: GcTotals = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = ((e as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        totals.minor++;
        totals.minorMs += e.duration;
      } else {
        totals.major++;
        totals.majorMs += e.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  return totals;
}

/** `minor n ×k, major m ×j` for the pauses between two readings. */
export function formatGc(before: GcTotals, after: GcTotals): string {
  return (
    `young ${(after.minorMs - before.minorMs).toFixed(0)} ms ×${after.minor - before.minor}, ` +
    `old ${(after.majorMs - before.majorMs).toFixed(0)} ms ×${after.major - before.major}`
  );
}

/**
 * Reads this thread's cumulative CPU every `everyMs` until stop(): [absolute ms (timeOrigin + now), CPU ms].
 * Absolute times compare across threads, whose performance.now() origins differ.
 */
export function sampleThreadCpu(everyMs = 20): { stop(): Array<[number, number]> } {
  const samples: Array<[number, number]> = [];
  const read = (): void => {
    const u = process.threadCpuUsage();
    samples.push([performance.timeOrigin + performance.now(), (u.user + u.system) / 1000]);
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop() {
      clearInterval(timer);
      read();
      return samples;
    },
  };
}

/**
 * CPU seconds of this process's threads so far, summed by thread name (Linux /proc/self/task; empty
 * elsewhere). The JavaScript threads' own CPU is read more precisely by threadCpuUsage(); this shows
 * what else the process burns: V8's helper threads ("V8Worker": concurrent and parallel GC, JIT
 * compilation) and libuv's thread pool, which on a 2-core box compete with the agent and the fakes.
 */
export function threadCpuByName(taskDir = '/proc/self/task'): Map<string, number> {
  const byName = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(taskDir);
  } catch {
    return byName;
  }
  const ticksPerSecond = 100; // USER_HZ on Linux
  for (const task of tasks) {
    try {
      const name = readFileSync(join(taskDir, task, 'comm'), 'utf8').trim();
      // Fields after the command (which may hold spaces) start after the last ')': utime and stime are 14th and 15th.
      const stat = readFileSync(join(taskDir, task, 'stat'), 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const seconds = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      byName.set(name, (byName.get(name) ?? 0) + seconds);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return byName;
}

/** `name s` pairs of the CPU each thread name used between two readings, largest first, above 10 ms. */
export function formatThreadCpu(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>, skip: readonly string[] = []): string {
  return [...after]
    .filter(([name]) => !skip.includes(name))
    .map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const)
    .filter(([, s]) => s >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
    .join(', ');
}
