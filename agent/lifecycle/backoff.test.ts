import { describe, expect, it } from 'vitest';
import { CrashLoopBackOff, DEFAULT_CRASHLOOP_BACKOFF, crashLoopBackOffDecision } from './backoff.js';

describe('crash loop backoff entries', () => {
  it('lets the first start through without creating an entry', () => {
    expect(crashLoopBackOffDecision(undefined, null, 0)).toEqual({ start: true, entry: undefined });
  });

  it('refuses a restart while now − finishedAt < backoff and allows it exactly at the boundary', () => {
    const entry = { backoffSeconds: 20, lastUpdate: 100 };
    expect(crashLoopBackOffDecision(entry, 150, 169.999, DEFAULT_CRASHLOOP_BACKOFF)).toEqual({ start: false, entry, retryAt: 170 });
    expect(crashLoopBackOffDecision(entry, 150, 170, DEFAULT_CRASHLOOP_BACKOFF)).toEqual({ start: true, entry: { backoffSeconds: 40, lastUpdate: 170 } });
  });

  it('treats an entry last updated more than resetAfter before the exit as absent', () => {
    const entry = { backoffSeconds: 300, lastUpdate: 0 };
    expect(crashLoopBackOffDecision(entry, 600, 600)).toEqual({ start: false, entry, retryAt: 900 });
    expect(crashLoopBackOffDecision(entry, 600.5, 600.5)).toEqual({ start: true, entry: { backoffSeconds: 10, lastUpdate: 600.5 } });
  });

  it('keeps one entry per key and garbage-collects entries idle for more than 2 × max', () => {
    const store = new CrashLoopBackOff();
    expect(store.decide('a', 5, 5).start).toBe(true);
    expect(store.decide('a', 6, 7).start).toBe(false);
    expect(store.decide('b', 6, 7).start).toBe(true);
    store.gc(605);
    expect(store.entry('a')).toBeDefined();
    store.gc(605.01);
    expect(store.entry('a')).toBeUndefined();
    expect(store.entry('b')).toBeDefined();
  });
});
