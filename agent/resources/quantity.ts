/**
 * resource.Quantity semantics (kubelet-semantics §7, apimachinery `pkg/api/resource`): exact decimal
 * values held as `unscaled × 10^scale` with a bigint mantissa, the three suffix formats, upstream's
 * canonical string (including the quirk that canonical-looking input text is kept verbatim), and
 * Value()/MilliValue() rounding away from zero.
 *
 * Quantities are immutable: arithmetic returns a new Quantity.
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export type QuantityErrorCode = 'ErrFormatWrong' | 'ErrSuffix' | 'ErrNumeric';

const ERROR_TEXT: Readonly<Record<QuantityErrorCode, string>> = {
  ErrFormatWrong: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  ErrSuffix: "unable to parse quantity's suffix",
  ErrNumeric: 'unable to parse numeric part of quantity',
};

/** A quantity string that resource.ParseQuantity rejects; `code` names upstream's error variable. */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
  constructor(
    readonly code: QuantityErrorCode,
    readonly input: string,
  ) {
    super(`invalid quantity ${JSON.stringify(input)}: ${ERROR_TEXT[code]}`);
  }
}

/**
 * Alignments and expansions wider than this many decimal digits are refused with a RangeError:
 * `1e2147483647` parses (as upstream), but adding 1 to it would need two billion digits.
 */
const MAX_EXPANSION_DIGITS = 100_000;

const MAX_INT64 = (1n << 63n) - 1n;
const NANO_SCALE = -9;
/** Largest |exponent| accepted after `e`/`E`: the int32 scale upstream stores must negate safely. */
const MAX_EXPONENT = 2147483647;
/** Decimal digits the upstream int64 fast path accepts (maxInt64Factors). */
const MAX_INT64_FACTORS = 18;

const DECIMAL_SUFFIX_BY_EXPONENT = new Map<number, string>([
  [-9, 'n'], [-6, 'u'], [-3, 'm'], [0, ''], [3, 'k'], [6, 'M'], [9, 'G'], [12, 'T'], [15, 'P'], [18, 'E'],
]);
const DECIMAL_EXPONENT_BY_SUFFIX = new Map<string, number>(
  [...DECIMAL_SUFFIX_BY_EXPONENT].map(([exponent, suffix]) => [suffix, exponent]),
);
const BINARY_SUFFIX_BY_POWER = new Map<number, string>([
  [10, 'Ki'], [20, 'Mi'], [30, 'Gi'], [40, 'Ti'], [50, 'Pi'], [60, 'Ei'],
]);
const BINARY_POWER_BY_SUFFIX = new Map<string, number>(
  [...BINARY_SUFFIX_BY_POWER].map(([power, suffix]) => [suffix, power]),
);

const POW10_CACHE: bigint[] = [];
function pow10(n: number): bigint {
  if (n > MAX_EXPANSION_DIGITS) {
    throw new RangeError(`quantity would need more than ${MAX_EXPANSION_DIGITS} decimal digits`);
  }
  if (n < 64) {
    let cached = POW10_CACHE[n];
    if (cached === undefined) {
      cached = 10n ** BigInt(n);
      POW10_CACHE[n] = cached;
    }
    return cached;
  }
  return 10n ** BigInt(n);
}

function abs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

/** Number of decimal digits of |x| (0 has one digit). */
function digitCount(x: bigint): number {
  return abs(x).toString().length;
}

/** |x| / 10^n rounded away from zero, keeping the sign. */
function divPow10AwayFromZero(x: bigint, n: number): bigint {
  if (n <= 0) return x * pow10(-n);
  const magnitude = abs(x);
  if (n > digitCount(magnitude)) return x === 0n ? 0n : x < 0n ? -1n : 1n;
  const divisor = pow10(n);
  let q = magnitude / divisor;
  if (q * divisor !== magnitude) q += 1n;
  return x < 0n ? -q : q;
}

export class Quantity {
  /** Exact value is `unscaled × 10^scale`. */
  readonly #unscaled: bigint;
  readonly #scale: number;
  /** Text kept verbatim from parsing (upstream's `s`), or the computed canonical form once asked for. */
  #text: string | undefined;
  readonly format: QuantityFormat;

  private constructor(unscaled: bigint, scale: number, format: QuantityFormat, text?: string) {
    this.#unscaled = unscaled;
    this.#scale = unscaled === 0n ? 0 : scale;
    this.format = format;
    this.#text = text;
  }

  /**
   * An exact integer quantity (upstream NewQuantity).
   * @example Quantity.fromBigInt(1073741824n, 'BinarySI').toString() // '1Gi'
   */
  static fromBigInt(value: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(value, 0, format);
  }

  /**
   * `value / 1000` (upstream NewMilliQuantity).
   * @example Quantity.fromMilli(1500n, 'DecimalSI').toString() // '1500m'
   */
  static fromMilli(milli: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(milli, -3, format);
  }

  /**
   * `unscaled × 10^scale` (upstream NewScaledQuantity, any format).
   * @example Quantity.fromScaled(5n, 6).toString() // '5M'
   */
  static fromScaled(unscaled: bigint, scale: number, format: QuantityFormat = 'DecimalSI'): Quantity {
    if (!Number.isSafeInteger(scale)) throw new RangeError(`quantity scale must be an integer, got ${scale}`);
    return new Quantity(unscaled, scale, format);
  }

  /** See parseQuantity. */
  static parse(text: string): Quantity {
    const parsed = parseParts(text);
    return new Quantity(parsed.unscaled, parsed.scale, parsed.format, parsed.text);
  }

  /** The exact value as a mantissa and a power of ten. @example parseQuantity('1.5k').decimal // { unscaled: 15n, scale: 2 } */
  get decimal(): { readonly unscaled: bigint; readonly scale: number } {
    return { unscaled: this.#unscaled, scale: this.#scale };
  }

  /** -1, 0 or 1. @example parseQuantity('-1m').sign() // -1 */
  sign(): -1 | 0 | 1 {
    return this.#unscaled === 0n ? 0 : this.#unscaled < 0n ? -1 : 1;
  }

  /** @example parseQuantity('0Mi').isZero() // true */
  isZero(): boolean {
    return this.#unscaled === 0n;
  }

  /**
   * Exact comparison across formats.
   * @example parseQuantity('1Gi').cmp(parseQuantity('1G')) // 1
   */
  cmp(other: Quantity): -1 | 0 | 1 {
    const a = this.#unscaled;
    const b = other.#unscaled;
    const signA = a === 0n ? 0 : a < 0n ? -1 : 1;
    const signB = b === 0n ? 0 : b < 0n ? -1 : 1;
    if (signA !== signB) return signA > signB ? 1 : -1;
    if (signA === 0) return 0;
    if (this.#scale === other.#scale) return a === b ? 0 : a > b ? 1 : -1;
    // Settle clearly different magnitudes without expanding (exponents may be huge).
    if (Math.abs(this.#scale - other.#scale) > 36) {
      const magnitudeA = digitCount(a) + this.#scale;
      const magnitudeB = digitCount(b) + other.#scale;
      if (magnitudeA !== magnitudeB) {
        const larger = magnitudeA > magnitudeB ? 1 : -1;
        return (signA > 0 ? larger : -larger) as -1 | 1;
      }
    }
    const [x, y] = Quantity.#align(this, other);
    return x === y ? 0 : x > y ? 1 : -1;
  }

  /** @example parseQuantity('1').equals(parseQuantity('1000m')) // true */
  equals(other: Quantity): boolean {
    return this.cmp(other) === 0;
  }

  /**
   * Exact sum; the result keeps this format unless this is zero (then it takes `other`'s).
   * @example parseQuantity('100m').add(parseQuantity('1')).toString() // '1100m'
   */
  add(other: Quantity): Quantity {
    const format = this.isZero() ? other.format : this.format;
    if (other.isZero()) return new Quantity(this.#unscaled, this.#scale, format);
    if (this.isZero()) return new Quantity(other.#unscaled, other.#scale, format);
    const [x, y, scale] = Quantity.#align(this, other);
    return new Quantity(x + y, scale, format);
  }

  /**
   * Exact difference; format rule as for add.
   * @example parseQuantity('1Gi').sub(parseQuantity('512Mi')).toString() // '512Mi'
   */
  sub(other: Quantity): Quantity {
    return this.add(other.neg());
  }

  /** @example parseQuantity('5Ki').neg().toString() // '-5Ki' */
  neg(): Quantity {
    return new Quantity(-this.#unscaled, this.#scale, this.format);
  }

  /**
   * Exact product with an integer.
   * @example parseQuantity('1Ei').mul(1024n).toString() // '1180591620717411303424'
   */
  mul(factor: bigint | number): Quantity {
    if (typeof factor === 'number' && !Number.isSafeInteger(factor)) {
      throw new RangeError(`quantity factor must be a safe integer, got ${factor}`);
    }
    return new Quantity(this.#unscaled * BigInt(factor), this.#scale, this.format);
  }

  /**
   * The value rounded up (away from zero) to `10^scale` (upstream RoundUp); the verbatim text is kept
   * when nothing changes.
   * @example parseQuantity('1.0001').roundUp(-3).toString() // '1001m'
   */
  roundUp(scale: number): Quantity {
    if (this.#scale >= scale) return this;
    const rounded = divPow10AwayFromZero(this.#unscaled, scale - this.#scale);
    if (rounded * pow10(scale - this.#scale) === this.#unscaled) return this;
    return new Quantity(rounded, scale, this.format);
  }

  /**
   * ceil(|q| / 10^scale) with q's sign, i.e. rounded away from zero (upstream ScaledValue).
   * @example parseQuantity('1500m').scaledValue(0) // 2n
   */
  scaledValue(scale: number): bigint {
    return divPow10AwayFromZero(this.#unscaled, scale - this.#scale);
  }

  /**
   * The integer value, rounded away from zero. Exact beyond int64 (upstream saturates there).
   * @example parseQuantity('1.1').value() // 2n
   */
  value(): bigint {
    return this.scaledValue(0);
  }

  /**
   * The value in thousandths, rounded away from zero.
   * @example parseQuantity('0.1m').milliValue() // 1n
   */
  milliValue(): bigint {
    return this.scaledValue(-3);
  }

  /** A float64 approximation. @example parseQuantity('1.5').asApproximateFloat64() // 1.5 */
  asApproximateFloat64(): number {
    return Number(`${this.#unscaled}e${this.#scale}`);
  }

  /**
   * The canonical form (kubelet-semantics §7), or the parsed text when upstream keeps it verbatim.
   * @example parseQuantity('1536Mi').toString() // '1536Mi'; parseQuantity('1.5Gi').toString() // '1536Mi'
   */
  toString(): string {
    this.#text ??= canonicalize(this.#unscaled, this.#scale, this.format);
    return this.#text;
  }

  /** Serializes like upstream MarshalJSON: the string form. */
  toJSON(): string {
    return this.toString();
  }

  /** Brings two values to the smaller scale: [a, b, scale]. */
  static #align(a: Quantity, b: Quantity): [bigint, bigint, number] {
    const sa = a.#scale;
    const sb = b.#scale;
    if (sa === sb) return [a.#unscaled, b.#unscaled, sa];
    if (sa > sb) return [a.#unscaled * pow10(sa - sb), b.#unscaled, sb];
    return [a.#unscaled, b.#unscaled * pow10(sb - sa), sa];
  }
}

/** Moves trailing decimal zeros of the mantissa into the exponent. */
function stripTens(unscaled: bigint, scale: number): [bigint, number] {
  let m = unscaled;
  let s = scale;
  while (m % 1000000n === 0n) {
    m /= 1000000n;
    s += 6;
  }
  while (m % 10n === 0n) {
    m /= 10n;
    s += 1;
  }
  return [m, s];
}

function canonicalDecimal(unscaled: bigint, scale: number, format: QuantityFormat): string {
  let [mantissa, exponent] = stripTens(unscaled, scale);
  // Lower the exponent to a multiple of three, growing the mantissa.
  const remainder = ((exponent % 3) + 3) % 3;
  if (remainder !== 0) {
    mantissa *= pow10(remainder);
    exponent -= remainder;
  }
  let suffix: string;
  if (format === 'DecimalSI') {
    // Beyond E (10^18) or below n (10^-9) DecimalSI has no suffix: fall back to exponent notation
    // rather than silently dropping the magnitude.
    suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exponent) ?? `e${exponent}`;
  } else {
    suffix = exponent === 0 ? '' : `e${exponent}`;
  }
  return `${mantissa}${suffix}`;
}

function canonicalize(unscaled: bigint, scale: number, format: QuantityFormat): string {
  if (unscaled === 0n) return '0';
  if (format !== 'BinarySI') return canonicalDecimal(unscaled, scale, format);
  // BinarySI: small or fractional values are shown as DecimalSI so nothing is rounded.
  let integer: bigint;
  if (scale >= 0) {
    if (digitCount(unscaled) + scale <= 4 && abs(unscaled * pow10(scale)) < 1024n) {
      return canonicalDecimal(unscaled, scale, 'DecimalSI');
    }
    integer = unscaled * pow10(scale);
  } else {
    const divisor = pow10(-scale);
    if (unscaled % divisor !== 0n) return canonicalDecimal(unscaled, scale, 'DecimalSI');
    integer = unscaled / divisor;
    if (abs(integer) < 1024n) return canonicalDecimal(unscaled, scale, 'DecimalSI');
  }
  let mantissa = integer;
  let power = 0;
  while (mantissa % 1024n === 0n) {
    mantissa /= 1024n;
    power += 10;
  }
  if (power === 0) return `${mantissa}`;
  const suffix = BINARY_SUFFIX_BY_POWER.get(power);
  // Past Ei there is no binary suffix: emit the exact decimal form instead.
  if (suffix === undefined) return canonicalDecimal(unscaled, scale, 'DecimalSI');
  return `${mantissa}${suffix}`;
}

/** Whether the non-negative value unscaled × 10^scale exceeds 2^63 − 1. */
function exceedsInt64(unscaled: bigint, scale: number): boolean {
  if (scale >= 0) return digitCount(unscaled) + scale > 19 || unscaled * pow10(scale) > MAX_INT64;
  return unscaled > MAX_INT64 * pow10(-scale);
}

interface Scanned {
  positive: boolean;
  /** Sign plus the numeric text (upstream `value`): what a slow-path decimal parse reads. */
  numeric: string;
  /** Integer digits without leading zeros ("0" when there are none). */
  num: string;
  /** Fraction digits as written. */
  denom: string;
  suffix: string;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

const SUFFIX_LETTERS = 'eEinumkKMGTP';

/** Splits a quantity into sign, digits and suffix the way upstream's scanner does. */
function scan(text: string): Scanned {
  let positive = true;
  let pos = 0;
  const end = text.length;
  if (text[0] === '-') {
    positive = false;
    pos++;
  } else if (text[0] === '+') {
    pos++;
  }
  while (pos < end && text[pos] === '0') pos++;
  if (pos >= end) return { positive, numeric: '0', num: '0', denom: '', suffix: '' };
  const numStart = pos;
  while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
  const num = pos > numStart ? text.slice(numStart, pos) : '0';
  if (pos >= end) return { positive, numeric: text, num, denom: '', suffix: '' };
  let denom = '';
  if (text[pos] === '.') {
    pos++;
    const denomStart = pos;
    while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
    denom = text.slice(denomStart, pos);
    if (pos >= end) return { positive, numeric: text, num, denom, suffix: '' };
  }
  const numeric = text.slice(0, pos);
  const suffixStart = pos;
  while (pos < end && SUFFIX_LETTERS.includes(text[pos] as string)) pos++;
  if (pos < end && (text[pos] === '-' || text[pos] === '+')) pos++;
  while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
  if (pos < end) throw new QuantityParseError('ErrFormatWrong', text);
  return { positive, numeric, num, denom, suffix: text.slice(suffixStart) };
}

interface Suffix {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(suffix: string, text: string): Suffix {
  const decimal = DECIMAL_EXPONENT_BY_SUFFIX.get(suffix);
  if (decimal !== undefined) return { base: 10, exponent: decimal, format: 'DecimalSI' };
  const binary = BINARY_POWER_BY_SUFFIX.get(suffix);
  if (binary !== undefined) return { base: 2, exponent: binary, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E')) {
    const digits = suffix.slice(1);
    // strconv.ParseInt syntax: optional sign, then decimal digits only.
    if (/^[+-]?\d+$/.test(digits)) {
      const exponent = Number(digits);
      if (Math.abs(exponent) <= MAX_EXPONENT) return { base: 10, exponent, format: 'DecimalExponent' };
    }
  }
  throw new QuantityParseError('ErrSuffix', text);
}

/**
 * Parses a quantity string exactly as resource.ParseQuantity does.
 * @example parseQuantity('1.5Gi').toString() // '1536Mi'
 * @throws QuantityParseError with code 'ErrFormatWrong' | 'ErrSuffix' | 'ErrNumeric'
 */
export function parseQuantity(text: string): Quantity {
  return Quantity.parse(text);
}

interface ParsedParts {
  unscaled: bigint;
  scale: number;
  format: QuantityFormat;
  /** The input, when upstream would keep it as the string form. */
  text: string | undefined;
}

function parseParts(text: string): ParsedParts {
  if (typeof text !== 'string' || text.length === 0) {
    throw new QuantityParseError('ErrFormatWrong', typeof text === 'string' ? text : String(text));
  }
  if (text === '0') return { unscaled: 0n, scale: 0, format: 'DecimalSI', text: '0' };

  const { positive, numeric, num, denom, suffix } = scan(text);
  const { base, exponent, format: parsedFormat } = interpretSuffix(suffix, text);
  let format = parsedFormat;

  // Upstream's int64 fast path: it is the only path that keeps the input text verbatim, and only
  // when that text already looks canonical.
  let keepText = false;
  let fastPath = false;
  if (base === 10) {
    const scale = exponent - denom.length;
    if (num.length + denom.length <= MAX_INT64_FACTORS && scale >= NANO_SCALE) {
      fastPath = true;
      const shifted = num + denom;
      keepText = scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
    }
  } else if (denom.length === 0) {
    const precision = 15 - num.length - (exponent * 3) / 10 - 1;
    if (precision >= 0) {
      fastPath = true;
      keepText = (BigInt(num) & 7n) !== 0n;
    }
  }
  if (!fastPath && !/\d/.test(numeric)) throw new QuantityParseError('ErrNumeric', text);

  let unscaled = BigInt(num + denom);
  let scale = -denom.length;
  if (base === 10) scale += exponent;
  else unscaled <<= BigInt(exponent);

  if (!fastPath) {
    // Non-zero magnitudes below 1n round up to 1n: asking for some resource should get some.
    if (unscaled !== 0n && scale < NANO_SCALE) {
      unscaled = divPow10AwayFromZero(unscaled, NANO_SCALE - scale);
      scale = NANO_SCALE;
    }
    if (format === 'BinarySI') {
      // Binary values are capped at the int64 maximum.
      if (exceedsInt64(unscaled, scale)) {
        unscaled = MAX_INT64;
        scale = 0;
      }
      const isBelowOne = scale < 0 && unscaled !== 0n && unscaled < pow10(-scale);
      if (isBelowOne) format = 'DecimalSI';
    }
  }
  if (!positive) unscaled = -unscaled;
  return { unscaled, scale, format, text: keepText ? text : undefined };
}

/**
 * Accepts a Quantity, quantity text (as found in V1Pod resource maps), or a JSON number (the API
 * accepts `cpu: 1` unquoted); names `field` on error.
 * @example toQuantity('100Mi', 'capacity.memory').value() // 104857600n
 */
export function toQuantity(value: Quantity | string | number, field: string): Quantity {
  if (value instanceof Quantity) return value;
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  try {
    return parseQuantity(text as string);
  } catch (error) {
    if (error instanceof QuantityParseError) {
      throw new QuantityFieldError(field, error);
    }
    throw error;
  }
}

/** A quantity that failed to parse, naming the field it came from. */
export class QuantityFieldError extends Error {
  override readonly name = 'QuantityFieldError';
  readonly code: QuantityErrorCode;
  constructor(
    readonly field: string,
    parseError: QuantityParseError,
  ) {
    super(`${field}: ${parseError.message}`, { cause: parseError });
    this.code = parseError.code;
  }
}
