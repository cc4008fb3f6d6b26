import { describe, expect, it } from 'vitest';
import { formatTable, latencySummary, overhead } from './agent-stats.js';

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
});
