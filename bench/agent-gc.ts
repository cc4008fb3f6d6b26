/**
 * Garbage-collection pauses and CPU readings of the calling thread, summed by kind from the perf_hooks 'gc' entries, for
 * bench/agent.ts: the burst's CPU per pod is partly the collector's, and its young-generation share
 * says whether allocation in hot paths is what costs.
 */
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
