/**
 * The burst timeline of bench/agent.ts (pure): when each step of the pods happened, in ms from the
 * burst's start, counted per time bucket, beside how busy each thread was in that bucket, so idle
 * stretches between steps show up.
 */

export interface TimelineSeries {
  /** Column label, e.g. 'created' or 'sandbox'. */
  readonly name: string;
  /** When each occurrence happened, ms from the burst's start (any order). */
  readonly times: readonly number[];
}

/** A thread's cumulative CPU time read now and then: [ms from the burst's start, CPU ms so far], in time order. */
export interface CpuSeries {
  readonly name: string;
  readonly samples: readonly (readonly [number, number])[];
}

/** Occurrences per bucket of `bucketMs` from 0 until the bucket holding the latest occurrence of any series. */
export function bucketCounts(series: readonly TimelineSeries[], bucketMs: number): number[][] {
  if (!(bucketMs > 0)) throw new Error(`bucketMs must be positive, got ${bucketMs}`);
  const last = Math.max(0, ...series.flatMap((s) => s.times));
  const buckets = Math.floor(last / bucketMs) + 1;
  return series.map((s) => {
    const counts = new Array<number>(buckets).fill(0);
    for (const t of s.times) counts[Math.max(0, Math.floor(t / bucketMs))]!++;
    return counts;
  });
}

/** Cumulative CPU at time `t`, interpolated between the samples around it (clamped to the first and last). */
function cpuAt(samples: CpuSeries['samples'], t: number): number {
  if (samples.length === 0) return 0;
  const first = samples[0]!;
  if (t <= first[0]) return first[1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, c1] = samples[i]!;
    if (t <= t1) {
      const [t0, c0] = samples[i - 1]!;
      return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
    }
  }
  return samples[samples.length - 1]![1];
}

/** Percent of each bucket the thread spent on CPU, for `buckets` buckets from 0. */
export function busyPercent(cpu: CpuSeries, bucketMs: number, buckets: number): number[] {
  return Array.from({ length: buckets }, (_, b) => ((cpuAt(cpu.samples, (b + 1) * bucketMs) - cpuAt(cpu.samples, b * bucketMs)) / bucketMs) * 100);
}

/**
 * One row per bucket: its start, each series' count in it and its running total (`n/total`, `.` for
 * none), then each thread's busy percentage.
 */
export function formatTimeline(series: readonly TimelineSeries[], bucketMs: number, cpu: readonly CpuSeries[] = []): string {
  const counts = bucketCounts(series, bucketMs);
  const buckets = counts[0]?.length ?? 0;
  const busy = cpu.map((c) => busyPercent(c, bucketMs, buckets));
  const totals = series.map(() => 0);
  const widths = series.map((s) => Math.max(s.name.length, 2 * String(s.times.length).length + 1));
  const cpuWidths = cpu.map((c) => Math.max(c.name.length, 4));
  const rows = [['ms'.padStart(5), ...series.map((s, i) => s.name.padStart(widths[i]!)), ...cpu.map((c, i) => c.name.padStart(cpuWidths[i]!))].join('  ')];
  for (let b = 0; b < buckets; b++) {
    const cells = series.map((_, i) => {
      const n = counts[i]![b]!;
      totals[i]! += n;
      return (n === 0 ? '.' : `${n}/${totals[i]}`).padStart(widths[i]!);
    });
    const cpuCells = busy.map((pcts, i) => `${Math.round(pcts[b]!)}%`.padStart(cpuWidths[i]!));
    rows.push([String(b * bucketMs).padStart(5), ...cells, ...cpuCells].join('  '));
  }
  return rows.join('\n');
}

/** `name first–last ms` for each series with occurrences, in the given order. */
export function milestones(series: readonly TimelineSeries[]): string {
  return series
    .filter((s) => s.times.length > 0)
    .map((s) => `${s.name} ${Math.min(...s.times).toFixed(0)}–${Math.max(...s.times).toFixed(0)} ms`)
    .join(', ');
}
