/**
 * Eviction thresholds from KubeletConfiguration maps (upstream ParseThresholdConfig,
 * kubelet-semantics §5.2–5.4): hard and soft `signal → value` maps, soft grace periods, minimum
 * reclaims, and the allocatableMemory.available mirror of hard memory thresholds.
 */
import { parseGoDuration } from '../config/duration.js';
import { Quantity, QuantityParseError, parseQuantity } from '../resources/quantity.js';
import { InvalidInputError } from '../util/invalid-input.js';
import { DEFAULT_ENFORCE_NODE_ALLOCATABLE, DEFAULT_EVICTION_HARD } from './defaults.js';
import { isEvictionSignal, type EvictionSignal } from './signals.js';

/** A threshold amount: an absolute quantity, or a float32 fraction (0.1 = 10%) of capacity. */
export interface ThresholdValue {
  readonly quantity?: Quantity;
  readonly percentage?: number;
}

export interface Threshold {
  readonly signal: EvictionSignal;
  /** The only operator upstream has: the signal's available amount is less than the value. */
  readonly operator: 'LessThan';
  readonly value: ThresholdValue;
  /** 0 for hard thresholds; a soft threshold with grace 0 behaves as a hard one. */
  readonly gracePeriodSeconds: number;
  readonly minReclaim?: ThresholdValue | null;
}

export interface EvictionThresholdConfig {
  /** signal → value; undefined means the Linux default (§5.3), `{}` means none. */
  readonly evictionHard?: Readonly<Record<string, string>>;
  readonly evictionSoft?: Readonly<Record<string, string>>;
  /** signal → Go duration (`1m30s`). */
  readonly evictionSoftGracePeriod?: Readonly<Record<string, string>>;
  readonly evictionMinimumReclaim?: Readonly<Record<string, string>>;
  /** Defaults to ["pods"]; containing "pods" mirrors hard memory.available to allocatableMemory.available. */
  readonly enforceNodeAllocatable?: readonly string[];
}

/** Upstream isHardEvictionThreshold. @example isHardEvictionThreshold(parseEvictionThresholds()[0]!) // true */
export function isHardEvictionThreshold(threshold: Threshold): boolean {
  return threshold.gracePeriodSeconds === 0;
}

function fieldOf(map: string, signal: string): string {
  return `${map}[${JSON.stringify(signal)}]`;
}

function checkSignal(map: string, signal: string): EvictionSignal {
  if (!isEvictionSignal(signal)) throw new InvalidInputError(map, `unsupported eviction signal ${signal}`);
  return signal;
}

/**
 * Go's strconv.ParseFloat(text, 32) for decimal text: the float32 nearest the value.
 * @example parseFloat32('0.1') // 0.10000000149011612
 */
export function parseFloat32(text: string): number {
  const trimmed = text;
  let value: number;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) value = Number(trimmed);
  else if (/^[+-]?(inf|infinity)$/i.test(trimmed)) value = trimmed.startsWith('-') ? -Infinity : Infinity;
  else throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  const single = Math.fround(value);
  if (Number.isFinite(value) && !Number.isFinite(single)) {
    throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(text)}: value out of range`);
  }
  return single;
}

/** Upstream parsePercentage: strip every trailing '%', parse as float32, divide by 100 in float32. */
function parsePercentage(text: string, field: string): number {
  try {
    return Math.fround(parseFloat32(text.replace(/%+$/, '')) / 100);
  } catch (error) {
    throw new InvalidInputError(field, (error as Error).message);
  }
}

function parseQuantityAt(text: string, field: string): Quantity {
  try {
    return parseQuantity(text);
  } catch (error) {
    if (error instanceof QuantityParseError) throw new InvalidInputError(field, error.message);
    throw error;
  }
}

/** One `signal: value` statement; null when the value disables the threshold (0% or 100%). */
function parseStatement(map: string, signal: EvictionSignal, text: string): Threshold | null {
  const field = fieldOf(map, signal);
  if (text.endsWith('%')) {
    if (text === '0%' || text === '100%') return null;
    const percentage = parsePercentage(text, field);
    if (percentage < 0) throw new InvalidInputError(field, `eviction percentage threshold ${signal} must be >= 0%: ${text}`);
    if (percentage > 1) throw new InvalidInputError(field, `eviction percentage threshold ${signal} must be <= 100%: ${text}`);
    // NaN passes both checks upstream; refuse it rather than carry an undefined threshold.
    if (Number.isNaN(percentage)) throw new InvalidInputError(field, `eviction percentage threshold ${signal} must be a number: ${text}`);
    return { signal, operator: 'LessThan', value: { percentage }, gracePeriodSeconds: 0 };
  }
  const quantity = parseQuantityAt(text, field);
  if (quantity.sign() <= 0) throw new InvalidInputError(field, `eviction threshold ${signal} must be positive: ${quantity.toString()}`);
  return { signal, operator: 'LessThan', value: { quantity }, gracePeriodSeconds: 0 };
}

/** The entries of a signal-keyed map, refusing anything that is not a plain object. */
function entriesOf(map: string, statements: Readonly<Record<string, string>> | undefined): Array<[string, string]> {
  if (statements === undefined || statements === null) return [];
  if (typeof statements !== 'object' || Array.isArray(statements)) {
    throw new InvalidInputError(map, 'must be a map of eviction signal to value');
  }
  return Object.entries(statements);
}

function parseStatements(map: string, statements: Readonly<Record<string, string>> | undefined): Threshold[] {
  const out: Threshold[] = [];
  for (const [signal, text] of entriesOf(map, statements)) {
    const parsed = parseStatement(map, checkSignal(map, signal), expectString(text, fieldOf(map, signal)));
    if (parsed !== null) out.push(parsed);
  }
  return out;
}

function expectString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(field, `must be a string, got ${typeof value}`);
  return value;
}

function parseGracePeriods(statements: Readonly<Record<string, string>> | undefined): Map<EvictionSignal, number> {
  const out = new Map<EvictionSignal, number>();
  for (const [signal, text] of entriesOf('evictionSoftGracePeriod', statements)) {
    const field = fieldOf('evictionSoftGracePeriod', signal);
    const valid = checkSignal('evictionSoftGracePeriod', signal);
    let milliseconds: number;
    try {
      milliseconds = parseGoDuration(expectString(text, field));
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new InvalidInputError(field, (error as Error).message);
    }
    if (milliseconds < 0) throw new InvalidInputError(field, `invalid eviction grace period specified: ${text}, must be a positive value`);
    out.set(valid, milliseconds / 1000);
  }
  return out;
}

function parseMinimumReclaims(statements: Readonly<Record<string, string>> | undefined): Map<EvictionSignal, ThresholdValue> {
  const out = new Map<EvictionSignal, ThresholdValue>();
  for (const [signal, raw] of entriesOf('evictionMinimumReclaim', statements)) {
    const field = fieldOf('evictionMinimumReclaim', signal);
    const valid = checkSignal('evictionMinimumReclaim', signal);
    const text = expectString(raw, field);
    if (text.endsWith('%')) {
      const percentage = parsePercentage(text, field);
      if (!(percentage > 0)) throw new InvalidInputError(field, `eviction percentage minimum reclaim ${signal} must be positive: ${text}`);
      out.set(valid, { percentage });
      continue;
    }
    const quantity = parseQuantityAt(text, field);
    if (quantity.sign() < 0) throw new InvalidInputError(field, `negative eviction minimum reclaim specified for ${signal}`);
    out.set(valid, { quantity });
  }
  return out;
}

/**
 * Parses eviction settings into thresholds: hard first, then soft (each in input order), then the
 * allocatableMemory.available mirrors of hard memory thresholds. Throws InvalidInputError naming
 * the offending entry, e.g. `evictionHard["memory.available"]`.
 * @example parseEvictionThresholds({ evictionHard: { 'memory.available': '100Mi' }, enforceNodeAllocatable: [] })
 *   // [{ signal: 'memory.available', operator: 'LessThan', value: { quantity: 100Mi }, gracePeriodSeconds: 0 }]
 */
export function parseEvictionThresholds(config: EvictionThresholdConfig = {}): Threshold[] {
  const hard = parseStatements('evictionHard', config.evictionHard ?? DEFAULT_EVICTION_HARD);
  const softParsed = parseStatements('evictionSoft', config.evictionSoft);
  const gracePeriods = parseGracePeriods(config.evictionSoftGracePeriod);
  const minReclaims = parseMinimumReclaims(config.evictionMinimumReclaim);
  const soft = softParsed.map((threshold) => {
    const grace = gracePeriods.get(threshold.signal);
    if (grace === undefined) {
      throw new InvalidInputError(
        'evictionSoftGracePeriod',
        `grace period must be specified for the soft eviction threshold ${threshold.signal}`,
      );
    }
    return { ...threshold, gracePeriodSeconds: grace };
  });
  let results: Threshold[] = [...hard, ...soft].map((threshold) => {
    const minReclaim = minReclaims.get(threshold.signal);
    return minReclaim === undefined ? threshold : { ...threshold, minReclaim };
  });
  const enforce = config.enforceNodeAllocatable ?? DEFAULT_ENFORCE_NODE_ALLOCATABLE;
  if (enforce.includes('pods')) results = withAllocatableThresholds(results);
  return results;
}

/** Upstream addAllocatableThresholds: each hard memory.available threshold also guards the pods cgroup. */
function withAllocatableThresholds(thresholds: Threshold[]): Threshold[] {
  const mirrors: Threshold[] = [];
  for (const threshold of thresholds) {
    if (threshold.signal === 'memory.available' && isHardEvictionThreshold(threshold)) {
      mirrors.push({
        signal: 'allocatableMemory.available',
        operator: threshold.operator,
        value: threshold.value,
        gracePeriodSeconds: 0,
        ...(threshold.minReclaim === undefined ? {} : { minReclaim: threshold.minReclaim }),
      });
    }
  }
  return [...thresholds, ...mirrors];
}

/**
 * The amount a threshold value stands for against `capacity` (upstream GetThresholdQuantity):
 * the quantity itself, or int64(float64(capacity) × float64(float32 percentage)), truncated.
 * @example thresholdQuantity({ percentage: Math.fround(0.1) }, parseQuantity('100Gi')).value() // 10737418400n
 */
export function thresholdQuantity(value: ThresholdValue, capacity: Quantity): Quantity {
  if (value.quantity !== undefined) return value.quantity;
  const product = Number(capacity.value()) * (value.percentage ?? 0);
  return Quantity.fromBigInt(BigInt(Math.trunc(product)), 'BinarySI');
}

/**
 * The text form of a threshold value as the config file writes it (`100Mi`, `10%`).
 * @example formatThresholdValue({ percentage: Math.fround(0.1) }) // '10%'
 */
export function formatThresholdValue(value: ThresholdValue): string {
  if (value.quantity !== undefined) return value.quantity.toString();
  // The shortest decimal whose float32 division by 100 gives back this float32.
  const percentage = value.percentage ?? 0;
  for (let digits = 1; digits <= 12; digits++) {
    const text = (percentage * 100).toPrecision(digits);
    if (Math.fround(Math.fround(Number(text)) / 100) === percentage) return `${Number(text)}%`;
  }
  return `${percentage * 100}%`;
}
