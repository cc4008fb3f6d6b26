/** Summary statistics for the CRI round-trip bench (pure). */

export interface Summary {
  readonly n: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Nearest-rank percentile (p in (0, 100]) of a non-empty sample. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of an empty sample');
  if (!(p > 0 && p <= 100)) throw new Error(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1] as number;
}

/** Median: the middle value, or the mean of the two middle values of an even sample. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error('median of an empty sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    medianMs: median(samples),
    p90Ms: percentile(samples, 90),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
  };
}

export function formatSummary(label: string, summary: Summary): string {
  const f = (ms: number): string => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1)).padStart(8);
  return `${label.padEnd(34)} n=${String(summary.n).padStart(4)}  median ${f(summary.medianMs)} ms  p90 ${f(summary.p90Ms)} ms  min ${f(summary.minMs)}  max ${f(summary.maxMs)}`;
}
