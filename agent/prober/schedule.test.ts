import { describe, expect, it } from 'vitest';
import { firstIterationDelaySeconds, nextIterationAt } from './schedule.js';

describe('probe worker schedule', () => {
  it('spreads only containers that were running when a young kubelet started', () => {
    const base = { periodSeconds: 60, random: 0.5 };
    expect(firstIterationDelaySeconds({ ...base, kubeletUptimeSeconds: 5, containerRunningAtKubeletStart: true })).toBe(30);
    expect(firstIterationDelaySeconds({ ...base, kubeletUptimeSeconds: 5, containerRunningAtKubeletStart: false })).toBe(0);
    expect(firstIterationDelaySeconds({ ...base, kubeletUptimeSeconds: 60, containerRunningAtKubeletStart: true })).toBe(0);
  });

  it('wakes when the initial delay elapses if that comes before the next period', () => {
    expect(nextIterationAt(7, 3600, 97)).toBe(97);
    expect(nextIterationAt(7, 10, 97)).toBe(17);
    expect(nextIterationAt(100, 10, 97)).toBe(110);
    expect(nextIterationAt(100, 10)).toBe(110);
  });
});
