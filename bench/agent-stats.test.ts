import { describe, expect, it } from 'vitest';
import { formatTable, latencySummary, medianBy, medianRound, overhead } from './agent-stats.js';

describe('agent bench statistics', () => {
  it('summarizes latencies with nearest-rank p50 and p99', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencySummary(samples)).toEqual({ n: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  });

  it('expresses overhead as the fraction above the raw CRI time', () => {
    expect(overhead(115, 100)).toBeCloseTo(0.15);
    expect(() => overhead(1, 0)).toThrow();
  });

  it('lays out a table with columns as wide as their widest cell', () => {
    expect(formatTable(['figure', 'fake', 'containerd'], [['p50 (ms)', '1.5', '120.0'], ['pods/s', '250', '—']])).toBe(
      ['figure    fake  containerd', '--------  ----  ----------', 'p50 (ms)   1.5       120.0', 'pods/s     250           —'].join('\n'),
    );
  });

  it('picks the round with the median rate, the lower middle one of an even count', () => {
    const round = (pods: number, secs: number, tag: string) => ({ pods, secs, tag });
    expect(medianRound([round(200, 1, 'fast'), round(200, 2, 'slow'), round(200, 1.5, 'middle')]).tag).toBe('middle');
    expect(medianRound([round(100, 1, 'a'), round(300, 1, 'c'), round(200, 1, 'b'), round(400, 1, 'd')]).tag).toBe('b');
    expect(medianRound([round(50, 1, 'only')]).tag).toBe('only');
    expect(() => medianRound([])).toThrow(/no rounds/);
  });

  it('picks the item with the median key', () => {
    expect(medianBy([{ ms: 3 }, { ms: 1 }, { ms: 2 }], (x) => x.ms)).toEqual({ ms: 2 });
    expect(medianBy([{ ms: 4 }, { ms: 1 }, { ms: 3 }, { ms: 2 }], (x) => x.ms)).toEqual({ ms: 2 });
    expect(() => medianBy([], () => 0)).toThrow(/no items/);
  });
});
