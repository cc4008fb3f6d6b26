/** Latency summaries for bench/agent.ts (pure). */
import { percentile } from './cri-roundtrip-stats.js';

export interface LatencySummary {
  readonly n: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function latencySummary(samples: readonly number[]): LatencySummary {
  return { n: samples.length, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples) };
}

export function formatLatency(label: string, s: LatencySummary): string {
  const f = (ms: number): string => ms.toFixed(1).padStart(8);
  return `${label.padEnd(44)} n=${String(s.n).padStart(4)}  p50 ${f(s.p50Ms)} ms  p99 ${f(s.p99Ms)} ms  max ${f(s.maxMs)} ms`;
}

/** Overhead of the agent over the raw CRI sequence, as a fraction (0.15 = 15 %). */
export function overhead(agentMs: number, rawMs: number): number {
  if (rawMs <= 0) throw new Error('raw latency must be positive');
  return agentMs / rawMs - 1;
}

/**
 * A plain-text table: a header row, a rule, then the rows; every column as wide as its widest cell
 * (first column left-aligned, the others right-aligned, as figures read best).
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths.map((w, i) => (i === 0 ? (cells[i] ?? '').padEnd(w) : (cells[i] ?? '').padStart(w))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The round with the median rate (the lower middle one for an even count). */
export function medianRound<T extends { readonly pods: number; readonly secs: number }>(rounds: readonly T[]): T {
  if (rounds.length === 0) throw new Error('medianRound: no rounds');
  return medianBy(rounds, (r) => r.pods / r.secs);
}

/** The item with the median `key` (the lower middle one for an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new Error('medianBy: no items');
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1]!;
}
