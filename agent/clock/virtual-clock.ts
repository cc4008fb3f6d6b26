import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sleepOn, type Clock, type TimerHandle } from './clock.js';

interface PendingTimer {
  readonly id: number;
  due: number;
  readonly fn: () => void;
  readonly intervalMs: number | null;
  cancelled: boolean;
}

/**
 * Virtual time: nothing moves until the test calls `advance`. Timers fire in (due time, creation order),
 * and after each one the event loop is drained so async continuations run before the next timer, which
 * is what makes `await clock.sleep()` chains behave as they do in real time.
 */
export class VirtualClock implements Clock {
  private monotonicMs = 0;
  private readonly wallOriginMs: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(options: { startWallMs?: number } = {}) {
    this.wallOriginMs = options.startWallMs ?? Date.UTC(2026, 0, 1);
  }

  now(): number {
    return this.wallOriginMs + this.monotonicMs;
  }

  monotonic(): number {
    return this.monotonicMs;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Number of timers still waiting to fire. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Due time (monotonic ms) of the next timer, or null when none is pending. */
  nextDue(): number | null {
    const next = this.peek();
    return next ? next.due : null;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    if (ms < 0) throw new RangeError(`cannot move a clock backwards (advance(${ms}))`);
    await this.advanceTo(this.monotonicMs + ms);
  }

  /** Moves time forward to the monotonic instant `targetMs`. */
  async advanceTo(targetMs: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.peek();
      if (!next || next.due > targetMs) break;
      this.monotonicMs = Math.max(this.monotonicMs, next.due);
      if (next.intervalMs === null) {
        next.cancelled = true;
      } else {
        next.due += next.intervalMs;
      }
      next.fn();
      await settle();
    }
    this.monotonicMs = Math.max(this.monotonicMs, targetMs);
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  /**
   * Like advance(ms), one due time at a time, awaiting `settle` after each: work a timer starts that
   * waits on real I/O (a gRPC call, a file) finishes, and can set its next timer, before time moves on.
   */
  async advanceSettling(ms: number, settle: () => Promise<unknown>): Promise<void> {
    const target = this.monotonicMs + ms;
    for (;;) {
      const due = this.nextDue();
      if (due === null || due > target) break;
      await this.advanceTo(due);
      await settle();
    }
    await this.advanceTo(target);
  }

  /** Fires timers until none is pending or `limitMs` of virtual time has passed. */
  async runAll(limitMs = 24 * 3600_000): Promise<void> {
    const stopAt = this.monotonicMs + limitMs;
    for (;;) {
      const due = this.nextDue();
      if (due === null || due > stopAt) break;
      await this.advanceTo(due);
    }
  }

  private schedule(fn: () => void, ms: number, intervalMs: number | null): TimerHandle {
    const timer: PendingTimer = {
      id: this.nextId++,
      due: this.monotonicMs + Math.max(0, ms),
      fn,
      intervalMs,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  private peek(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    }
    return best;
  }
}

/** Lets pending promise continuations and I/O callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await yieldToEventLoop();
}
