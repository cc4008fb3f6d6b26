import { describe, expect, it } from 'vitest';
import { millisToNanos, nanosToBigInt, nanosToMillis } from './nanos.js';

describe('nanosecond timestamps', () => {
  it('keep every digit of an int64 nanosecond string that a number would round', () => {
    const wire = '1795761210123456789';
    expect(Number(wire).toString()).not.toBe(wire);
    expect(nanosToBigInt(wire).toString()).toBe(wire);
    expect(nanosToBigInt('')).toBe(0n);
    expect(nanosToBigInt(42)).toBe(42n);
  });

  it('convert between epoch milliseconds and nanoseconds, truncating sub-millisecond parts', () => {
    expect(nanosToMillis('1795761210123456789')).toBe(1795761210123);
    expect(millisToNanos(1795761210123)).toBe('1795761210123000000');
    expect(nanosToMillis(millisToNanos(1_000.9))).toBe(1_000);
  });
});
