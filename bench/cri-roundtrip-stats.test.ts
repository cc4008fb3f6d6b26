import { describe, expect, it } from 'vitest';
import { median, percentile, summarize } from './cri-roundtrip-stats.js';

describe('bench statistics', () => {
  it('take the median as the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('take the p90 by nearest rank', () => {
    const samples = Array.from({ length: 10 }, (_, i) => 10 - i); // 10..1, unsorted
    expect(percentile(samples, 90)).toBe(9);
    expect(percentile(samples, 100)).toBe(10);
    expect(percentile([7], 90)).toBe(7);
  });

  it('refuse empty samples and percentiles outside (0, 100]', () => {
    expect(() => median([])).toThrow(/empty/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentile([1], 101)).toThrow(/\(0, 100\]/);
  });

  it('summarize with min and max', () => {
    expect(summarize([3, 1, 2])).toEqual({ n: 3, medianMs: 2, p90Ms: 3, minMs: 1, maxMs: 3 });
  });
});
