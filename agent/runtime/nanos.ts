/**
 * CRI timestamps are int64 nanoseconds since the Unix epoch, delivered as decimal strings by the loader
 * (longs: String) so no precision is lost. These helpers convert at the edges.
 */

/** Nanoseconds (string, number or bigint) as a bigint; '' (an unset field) reads as 0n. */
export function nanosToBigInt(value: string | number | bigint): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  return value === '' ? 0n : BigInt(value);
}

/** Nanoseconds as epoch milliseconds (a Date-compatible number), truncated. */
export function nanosToMillis(value: string | number | bigint): number {
  return Number(nanosToBigInt(value) / 1_000_000n);
}

/** Epoch milliseconds as a nanosecond string, the form the wire carries. */
export function millisToNanos(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}
