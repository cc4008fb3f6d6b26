/**
 * Go `time.Duration` text, as KubeletConfiguration (metav1.Duration) and kubelet flags use it:
 * `1m30s`, `300ms`, `1.5h`, `-2s`, `0`. Values are carried as (possibly fractional) milliseconds.
 */

/** Milliseconds; fractional values keep sub-millisecond precision (`1500us` = 1.5). */
export type Milliseconds = number;

export class DurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DurationError';
  }
}

const UNIT_NANOS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Largest duration Go can represent (int64 nanoseconds), in nanoseconds. */
const MAX_NANOS = 9223372036854775807;

/**
 * Parses like Go's `time.ParseDuration`: an optional sign, then one or more `<decimal><unit>` pairs;
 * a bare `0` is the only unit-less value. Throws DurationError with Go's messages.
 */
export function parseGoDuration(text: string): Milliseconds {
  const quoted = JSON.stringify(text);
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new DurationError(`time: invalid duration ${quoted}`);
  let nanos = 0;
  while (rest !== '') {
    const num = /^(\d*)(\.(\d*))?/.exec(rest);
    const whole = num?.[1] ?? '';
    const frac = num?.[3] ?? '';
    if (whole === '' && frac === '') throw new DurationError(`time: invalid duration ${quoted}`);
    rest = rest.slice(num?.[0].length ?? 0);
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? '';
    if (unit === '') throw new DurationError(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_NANOS[unit];
    if (scale === undefined) throw new DurationError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    rest = rest.slice(unit.length);
    nanos += Number(`${whole || '0'}.${frac || '0'}`) * scale;
    if (nanos > MAX_NANOS) throw new DurationError(`time: invalid duration ${quoted}`);
  }
  const ms = nanos / 1e6;
  return negative ? -ms : ms;
}

/** Formats milliseconds the way Go's `Duration.String()` does (`1m0s`, `1h30m0s`, `100ms`, `0s`). */
export function formatGoDuration(ms: Milliseconds): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  const nanos = Math.round(Math.abs(ms) * 1e6);
  if (nanos < 1e9) {
    // Sub-second values use the largest unit that keeps the integer part non-zero.
    if (nanos < 1e3) return `${sign}${nanos}ns`;
    if (nanos < 1e6) return `${sign}${trimFraction(nanos / 1e3)}µs`;
    return `${sign}${trimFraction(nanos / 1e6)}ms`;
  }
  const totalSeconds = nanos / 1e9;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds - hours * 3600) / 60);
  const seconds = totalSeconds - hours * 3600 - minutes * 60;
  let out = `${trimFraction(seconds)}s`;
  if (hours > 0 || minutes > 0) out = `${minutes}m${out}`;
  if (hours > 0) out = `${hours}h${out}`;
  return sign + out;
}

function trimFraction(value: number): string {
  return String(Number(value.toFixed(9)));
}
