import { describe, expect, it } from 'vitest';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('fires timers in due order, creation order breaking ties, only when time is advanced', async () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@20'), 20);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@20'), 20);
    expect(fired).toEqual([]);
    await clock.advance(15);
    expect(fired).toEqual(['a@10']);
    await clock.advance(5);
    expect(fired).toEqual(['a@10', 'b@20', 'c@20']);
    expect(clock.monotonic()).toBe(20);
  });

  it('runs async continuations between timers so chained sleeps follow virtual time', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const loop = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        seen.push(clock.monotonic());
      }
    })();
    await clock.advance(1_000);
    await loop;
    expect(seen).toEqual([100, 200, 300]);
  });

  it('advances one due time at a time, awaiting real work a timer started before moving on', async () => {
    const run = async (stepwise: boolean): Promise<number[]> => {
      const clock = new VirtualClock();
      const fired: number[] = [];
      let work: Promise<void> = Promise.resolve();
      clock.setTimeout(() => {
        fired.push(clock.monotonic());
        // Real I/O (a macrotask) before the next timer is set: a plain advance does not wait for it.
        work = new Promise<void>((r) => setTimeout(r, 5)).then(() => void clock.setTimeout(() => fired.push(clock.monotonic()), 5));
      }, 10);
      if (stepwise) await clock.advanceSettling(20, () => work);
      else await clock.advance(20);
      await work;
      expect(clock.monotonic()).toBe(20);
      return fired;
    };
    expect(await run(true)).toEqual([10, 15]);
    expect(await run(false)).toEqual([10]);
  });

  it('repeats intervals until cancelled and never fires a cancelled timer', async () => {
    const clock = new VirtualClock();
    let ticks = 0;
    const interval = clock.setInterval(() => ticks++, 10);
    const cancelled = clock.setTimeout(() => {
      throw new Error('cancelled timer fired');
    }, 5);
    cancelled.cancel();
    await clock.advance(35);
    expect(ticks).toBe(3);
    interval.cancel();
    await clock.advance(100);
    expect(ticks).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('rejects a sleep when its signal aborts before the deadline', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1_000, controller.signal);
    controller.abort(new Error('stopped'));
    await expect(sleeping).rejects.toThrow('stopped');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps wall time and monotonic time moving together', async () => {
    const clock = new VirtualClock({ startWallMs: 1_000_000 });
    await clock.advance(2_500);
    expect(clock.now()).toBe(1_002_500);
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
  });
});
