import { performance } from 'node:perf_hooks';
import { sleepOn, type Clock, type TimerHandle } from './clock.js';

/** Real time: Date for wall clock, performance.now() for monotonic time, Node timers. */
export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const handle = setInterval(fn, Math.max(1, ms));
    return { cancel: () => clearInterval(handle) };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }
}

export const realClock: Clock = new RealClock();
