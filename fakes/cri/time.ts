import type { Clock } from '../../agent/clock/clock.js';

/**
 * Wall-clock nanoseconds since the epoch from the injected clock. Clock.now() has millisecond
 * resolution; the sub-millisecond part of the monotonic clock is added so timestamps taken in the same
 * millisecond still differ, as containerd's do.
 */
export function nowNs(clock: Clock): bigint {
  const ms = Math.floor(clock.now());
  const subMs = Math.floor((((clock.monotonic() % 1) + 1) % 1) * 1e6);
  return BigInt(ms) * 1_000_000n + BigInt(subMs);
}

/** Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros, none at all when zero. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${frac ? `.${frac}` : ''}Z`;
}
