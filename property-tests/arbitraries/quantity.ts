/**
 * Quantity strings with an independent exact model of their value: the text is assembled from parts
 * (sign, digits, suffix) and the model computes the rational value from the same parts, without
 * going through the parser under test.
 */
import fc from 'fast-check';
import type { QuantityFormat } from '../../agent/resources/quantity.js';

/** An exact rational `num / den` with `den` a positive power of ten. */
export interface ExactDecimal {
  readonly num: bigint;
  readonly den: bigint;
}

export interface QuantityCase {
  readonly text: string;
  /** The value parseQuantity must produce (rounded up to 1n, binary values capped at 2^63 − 1). */
  readonly expected: ExactDecimal;
  readonly expectedFormat: QuantityFormat;
}

const MAX_INT64 = (1n << 63n) - 1n;
const NANO_DEN = 10n ** 9n;

const DECIMAL_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18],
];
const BINARY_SUFFIXES: ReadonlyArray<readonly [string, number]> = [
  ['Ki', 10], ['Mi', 20], ['Gi', 30], ['Ti', 40], ['Pi', 50], ['Ei', 60],
];

type SuffixPart =
  | { kind: 'decimal'; text: string; exponent: number }
  | { kind: 'binary'; text: string; power: number }
  | { kind: 'exponent'; text: string; exponent: number };

const suffixArb: fc.Arbitrary<SuffixPart> = fc.oneof(
  fc.constantFrom(...DECIMAL_SUFFIXES).map(([text, exponent]): SuffixPart => ({ kind: 'decimal', text, exponent })),
  fc.constantFrom(...BINARY_SUFFIXES).map(([text, power]): SuffixPart => ({ kind: 'binary', text, power })),
  fc
    .tuple(fc.constantFrom('e', 'E'), fc.integer({ min: -24, max: 24 }), fc.boolean())
    .map(([letter, exponent, plus]): SuffixPart => ({
      kind: 'exponent',
      text: `${letter}${exponent >= 0 && plus ? '+' : ''}${exponent}`,
      exponent,
    })),
);

const digits = (max: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 0, maxLength: max }).map((d) => d.join(''));

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Rounds |value| up to a multiple of 1e-9 (keeping the sign), as parsing does. */
function roundUpToNano(value: ExactDecimal): ExactDecimal {
  if (value.den <= NANO_DEN || value.num === 0n) return value;
  const factor = value.den / NANO_DEN;
  let q = abs(value.num) / factor;
  if (q * factor !== abs(value.num)) q += 1n;
  return { num: value.num < 0n ? -q : q, den: NANO_DEN };
}

/** Valid quantity text in every shape the grammar allows, with the value it must parse to. */
export const quantityCaseArb: fc.Arbitrary<QuantityCase> = fc
  .record({
    sign: fc.constantFrom('', '', '+', '-'),
    leadingZeros: fc.integer({ min: 0, max: 2 }),
    integer: digits(20),
    dot: fc.boolean(),
    fraction: digits(14),
    suffix: suffixArb,
  })
  .filter(({ leadingZeros, integer, dot, fraction }) => leadingZeros + integer.length + (dot ? fraction.length : 0) > 0)
  .map(({ sign, leadingZeros, integer, dot, fraction, suffix }): QuantityCase => {
    const frac = dot ? fraction : '';
    const text = `${sign}${'0'.repeat(leadingZeros)}${integer}${dot ? '.' : ''}${frac}${suffix.text}`;
    let num = BigInt(`${integer}${frac}` || '0');
    let den = 10n ** BigInt(frac.length);
    let format: QuantityFormat;
    if (suffix.kind === 'binary') {
      num *= 2n ** BigInt(suffix.power);
      format = 'BinarySI';
    } else {
      if (suffix.exponent >= 0) num *= 10n ** BigInt(suffix.exponent);
      else den *= 10n ** BigInt(-suffix.exponent);
      format = suffix.kind === 'decimal' ? 'DecimalSI' : 'DecimalExponent';
    }
    let expected = roundUpToNano({ num, den });
    if (format === 'BinarySI') {
      if (expected.num > MAX_INT64 * expected.den) expected = { num: MAX_INT64, den: 1n };
      if (expected.num !== 0n && expected.num < expected.den) format = 'DecimalSI';
    }
    if (sign === '-') expected = { num: -expected.num, den: expected.den };
    return { text, expected, expectedFormat: format };
  });

/** Any text over the quantity alphabet (plus a few strangers): parses or fails with a code. */
export const quantityLikeTextArb: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(...'0123456789.+-eEinumkKMGTPb %'.split('')),
  maxLength: 12,
});

/** Compares two exact decimals: -1, 0 or 1. */
export function compareExact(a: ExactDecimal, b: ExactDecimal): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left === right ? 0 : left > right ? 1 : -1;
}

export function addExact(a: ExactDecimal, b: ExactDecimal): ExactDecimal {
  return { num: a.num * b.den + b.num * a.den, den: a.den * b.den };
}

/** The exact value a Quantity reports through its `decimal` view. */
export function exactOf(decimal: { unscaled: bigint; scale: number }): ExactDecimal {
  return decimal.scale >= 0
    ? { num: decimal.unscaled * 10n ** BigInt(decimal.scale), den: 1n }
    : { num: decimal.unscaled, den: 10n ** BigInt(-decimal.scale) };
}

/** ceil(|x| × 10^-scale) with x's sign: the model of value()/milliValue(). */
export function scaledAwayFromZero(x: ExactDecimal, scale: number): bigint {
  const num = scale <= 0 ? abs(x.num) * 10n ** BigInt(-scale) : abs(x.num);
  const den = scale <= 0 ? x.den : x.den * 10n ** BigInt(scale);
  let q = num / den;
  if (q * den !== num) q += 1n;
  return x.num < 0n ? -q : q;
}

/** A positive amount of milli-cpu rendered in one of its equivalent spellings. */
export function cpuTextArb(millis: fc.Arbitrary<number>): fc.Arbitrary<string> {
  return fc.tuple(millis, fc.integer({ min: 0, max: 3 })).map(([m, style]) => {
    if (style === 1 && m % 1000 === 0) return `${m / 1000}`;
    if (style === 2) return `${(m / 1000).toFixed(3)}`;
    if (style === 3) return `${m * 1000}u`;
    return `${m}m`;
  });
}

/** A byte count rendered in one of its equivalent spellings (plain, Ki/Mi/Gi, k/M, exponent). */
export function bytesTextArb(bytes: fc.Arbitrary<bigint>): fc.Arbitrary<string> {
  return fc.tuple(bytes, fc.integer({ min: 0, max: 4 })).map(([b, style]) => {
    if (style === 1) {
      for (const [suffix, power] of [['Gi', 30n], ['Mi', 20n], ['Ki', 10n]] as const) {
        if (b % (1n << power) === 0n) return `${b >> power}${suffix}`;
      }
    }
    if (style === 2) {
      for (const [suffix, exponent] of [['G', 9n], ['M', 6n], ['k', 3n]] as const) {
        if (b % 10n ** exponent === 0n) return `${b / 10n ** exponent}${suffix}`;
      }
    }
    if (style === 3 && b % 1000n === 0n) return `${b / 1000n}e3`;
    if (style === 4) return `${b * 1000n}m`;
    return `${b}`;
  });
}
