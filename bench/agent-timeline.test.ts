import { describe, expect, it } from 'vitest';
import { bucketCounts, busyPercent, formatTimeline, milestones } from './agent-timeline.js';

describe('agent bench burst timeline', () => {
  it('counts occurrences per bucket up to the latest one of any series', () => {
    const counts = bucketCounts(
      [
        { name: 'a', times: [0, 10, 49.9, 120] },
        { name: 'b', times: [60] },
      ],
      50,
    );
    expect(counts).toEqual([
      [3, 0, 1],
      [0, 1, 0],
    ]);
  });

  it('rejects a bucket width that is not positive', () => {
    expect(() => bucketCounts([{ name: 'a', times: [1] }], 0)).toThrow(/bucketMs/);
  });

  it('shows each bucket with the count and the running total, and empty buckets as dots', () => {
    const text = formatTimeline(
      [
        { name: 'created', times: [5, 20, 130] },
        { name: 'running', times: [140] },
      ],
      50,
    );
    expect(text.split('\n')).toEqual(['   ms  created  running', '    0      2/2        .', '   50        .        .', '  100      1/3      1/1']);
  });

  it('names the first and last occurrence of each series that has any', () => {
    expect(milestones([{ name: 'created', times: [30, 2.4, 80] }, { name: 'none', times: [] }, { name: 'running', times: [90] }])).toBe(
      'created 2–80 ms, running 90–90 ms',
    );
  });
});

describe('agent bench thread busy time per bucket', () => {
  it('interpolates the cumulative CPU readings at bucket edges', () => {
    const cpu = { name: 'agent', samples: [[0, 0], [100, 50], [200, 50]] as const };
    expect(busyPercent(cpu, 50, 4)).toEqual([50, 50, 0, 0]);
  });

  it('adds the busy percentages after the counts', () => {
    const text = formatTimeline([{ name: 'n', times: [10, 60] }], 50, [{ name: 'cpu', samples: [[0, 0], [100, 25]] }]);
    expect(text.split('\n')).toEqual(['   ms    n   cpu', '    0  1/1   25%', '   50  1/2   25%']);
  });
});
