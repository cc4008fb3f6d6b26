/**
 * Threshold evaluation and the bookkeeping of one eviction-manager round (kubelet-semantics §5.4,
 * §5.5 step 1; upstream thresholdsMet, thresholdsFirstObservedAt, thresholdsMetGracePeriod,
 * thresholdsUpdatedStats, nodeConditions*, and the order `synchronize` calls them in). Pure: time
 * is an explicit `now` in seconds.
 */
import { Quantity, toQuantity } from '../resources/quantity.js';
import { signalCondition, type EvictionSignal, type PressureCondition } from './signals.js';
import { thresholdQuantity, type Threshold, type ThresholdValue } from './thresholds.js';

export interface SignalObservation {
  readonly available: Quantity | string;
  readonly capacity: Quantity | string;
  /** When the stats were collected (seconds); only newer stats are acted on. */
  readonly time?: number;
}

export type SignalObservations = Readonly<Partial<Record<EvictionSignal, SignalObservation>>>;

export interface MetThreshold {
  readonly threshold: Threshold;
  /** The threshold's amount against the observed capacity (the "Threshold quantity" of eviction messages). */
  readonly thresholdQuantity: Quantity;
  /** What availability had to stay at or above: thresholdQuantity, plus min reclaim when enforced. */
  readonly requiredAvailable: Quantity;
  readonly available: Quantity;
}

function observed(observations: SignalObservations, signal: EvictionSignal): { available: Quantity; capacity: Quantity } | undefined {
  const observation = observations[signal];
  if (observation === undefined) return undefined;
  return {
    available: toQuantity(observation.available, `observations[${JSON.stringify(signal)}].available`),
    capacity: toQuantity(observation.capacity, `observations[${JSON.stringify(signal)}].capacity`),
  };
}

/**
 * The thresholds met now: threshold quantity (plus minimum reclaim when `enforceMinReclaim`) strictly
 * greater than what is available. Signals without an observation are skipped.
 * @example thresholdsMet(parseEvictionThresholds(), { 'memory.available': { available: '50Mi', capacity: '8Gi' } }, false)
 *   // [{ threshold: <memory.available<100Mi>, thresholdQuantity: 100Mi, requiredAvailable: 100Mi, available: 50Mi }]
 */
export function thresholdsMet(
  thresholds: readonly Threshold[],
  observations: SignalObservations,
  enforceMinReclaim: boolean,
): MetThreshold[] {
  const results: MetThreshold[] = [];
  for (const threshold of thresholds) {
    const seen = observed(observations, threshold.signal);
    if (seen === undefined) continue;
    const quantity = thresholdQuantity(threshold.value, seen.capacity);
    let required = quantity;
    if (enforceMinReclaim && threshold.minReclaim !== undefined && threshold.minReclaim !== null) {
      required = required.add(thresholdQuantity(threshold.minReclaim, seen.capacity));
    }
    if (required.cmp(seen.available) > 0) {
      results.push({ threshold, thresholdQuantity: quantity, requiredAvailable: required, available: seen.available });
    }
  }
  return results;
}

/** When each currently met threshold was first seen met (upstream thresholdsFirstObservedAt). */
export type ThresholdsObservedAt = ReadonlyMap<Threshold, number>;

/**
 * Keeps the first-observed time of thresholds still met and stamps new ones with `now`; thresholds
 * no longer met are dropped, so a threshold that clears and returns starts its grace period anew.
 * @example thresholdsFirstObservedAt([soft], new Map([[soft, 100]]), 160).get(soft) // 100
 */
export function thresholdsFirstObservedAt(
  thresholds: readonly Threshold[],
  lastObservedAt: ThresholdsObservedAt,
  now: number,
): Map<Threshold, number> {
  const results = new Map<Threshold, number>();
  for (const threshold of thresholds) results.set(threshold, lastObservedAt.get(threshold) ?? now);
  return results;
}

/**
 * The thresholds whose grace period has elapsed: now − firstObservedAt >= gracePeriodSeconds.
 * @example thresholdsMetGracePeriod(new Map([[softWith90sGrace, 100]]), 190) // [softWith90sGrace]
 */
export function thresholdsMetGracePeriod(observedAt: ThresholdsObservedAt, now: number): Threshold[] {
  const results: Threshold[] = [];
  for (const [threshold, at] of observedAt) {
    if (now - at >= threshold.gracePeriodSeconds) results.push(threshold);
  }
  return results;
}

/**
 * Thresholds whose observation is newer than the last round's (or has no time).
 * @example thresholdsUpdatedStats([t], { 'memory.available': { available: '1Gi', capacity: '8Gi', time: 20 } }, { 'memory.available': { available: '1Gi', capacity: '8Gi', time: 10 } }) // [t]
 */
export function thresholdsUpdatedStats(
  thresholds: readonly Threshold[],
  observations: SignalObservations,
  lastObservations: SignalObservations,
): Threshold[] {
  return thresholds.filter((threshold) => {
    const now = observations[threshold.signal];
    if (now === undefined) return false;
    const last = lastObservations[threshold.signal];
    return last === undefined || now.time === undefined || now.time > (last.time ?? Number.NEGATIVE_INFINITY);
  });
}

const CONDITION_ORDER: readonly PressureCondition[] = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

/**
 * The node conditions the given thresholds imply, without duplicates.
 * @example nodeConditions(thresholds.filter((t) => t.signal === 'nodefs.available')) // ['DiskPressure']
 */
export function nodeConditions(thresholds: readonly Threshold[]): PressureCondition[] {
  const found = new Set(thresholds.map((t) => signalCondition(t.signal)));
  return CONDITION_ORDER.filter((c) => found.has(c));
}

/**
 * Conditions observed now get `now`; the others keep their last time (upstream nodeConditionsLastObservedAt).
 * @example nodeConditionsLastObservedAt(['MemoryPressure'], new Map([['DiskPressure', 10]]), 50) // Map { DiskPressure → 10, MemoryPressure → 50 }
 */
export function nodeConditionsLastObservedAt(
  conditions: readonly PressureCondition[],
  lastObservedAt: ReadonlyMap<PressureCondition, number>,
  now: number,
): Map<PressureCondition, number> {
  const results = new Map(lastObservedAt);
  for (const condition of conditions) results.set(condition, now);
  return results;
}

/**
 * Conditions last observed less than `periodSeconds` ago (the pressure transition period).
 * @example nodeConditionsObservedSince(new Map([['MemoryPressure', 0]]), 300, 299) // ['MemoryPressure']
 */
export function nodeConditionsObservedSince(
  observedAt: ReadonlyMap<PressureCondition, number>,
  periodSeconds: number,
  now: number,
): PressureCondition[] {
  return CONDITION_ORDER.filter((c) => {
    const at = observedAt.get(c);
    return at !== undefined && now - at < periodSeconds;
  });
}

function sameValue(a: ThresholdValue, b: ThresholdValue): boolean {
  if (a.quantity !== undefined || b.quantity !== undefined) {
    return a.quantity !== undefined && b.quantity !== undefined && a.quantity.cmp(b.quantity) === 0;
  }
  return a.percentage === b.percentage;
}

/** Upstream mergeThresholds: `b`'s thresholds not already in `a` (by signal, grace and value). */
function mergeThresholds(a: readonly Threshold[], b: readonly Threshold[]): Threshold[] {
  const out = [...a];
  for (const threshold of b) {
    const present = out.some(
      (t) => t.signal === threshold.signal && t.gracePeriodSeconds === threshold.gracePeriodSeconds && t.operator === threshold.operator && sameValue(t.value, threshold.value),
    );
    if (!present) out.push(threshold);
  }
  return out;
}

/** What the eviction manager remembers between rounds. */
export interface EvictionRoundState {
  /** Thresholds acted on last round; re-checked with min reclaim so pressure persists until reclaimed. */
  readonly thresholdsMet: readonly Threshold[];
  readonly thresholdsFirstObservedAt: ThresholdsObservedAt;
  readonly nodeConditionsLastObservedAt: ReadonlyMap<PressureCondition, number>;
  readonly lastObservations: SignalObservations | null;
}

export const INITIAL_EVICTION_ROUND_STATE: EvictionRoundState = Object.freeze({
  thresholdsMet: [],
  thresholdsFirstObservedAt: new Map(),
  nodeConditionsLastObservedAt: new Map(),
  lastObservations: null,
});

export interface EvictionRoundInput {
  readonly thresholds: readonly Threshold[];
  readonly observations: SignalObservations;
  /** Seconds. */
  readonly now: number;
  /** evictionPressureTransitionPeriod in seconds (default 300). */
  readonly pressureTransitionPeriodSeconds?: number;
}

export interface EvictionRoundResult {
  readonly state: EvictionRoundState;
  /** Thresholds to act on this round: met, past their grace period, with fresh stats. */
  readonly activeThresholds: readonly Threshold[];
  /** Node conditions to report (observed within the transition period). */
  readonly nodeConditions: readonly PressureCondition[];
}

/**
 * One `synchronize` round's decision logic, before ranking: which thresholds are active and which
 * pressure conditions the node reports.
 * @example evaluateEvictionRound(INITIAL_EVICTION_ROUND_STATE, { thresholds, observations, now: 0 }).nodeConditions // ['MemoryPressure']
 */
export function evaluateEvictionRound(state: EvictionRoundState, input: EvictionRoundInput): EvictionRoundResult {
  const { thresholds, observations, now } = input;
  const period = input.pressureTransitionPeriodSeconds ?? 300;
  let met = thresholdsMet(thresholds, observations, false).map((m) => m.threshold);
  if (state.thresholdsMet.length > 0) {
    const notYetResolved = thresholdsMet(state.thresholdsMet, observations, true).map((m) => m.threshold);
    met = mergeThresholds(met, notYetResolved);
  }
  const firstObservedAt = thresholdsFirstObservedAt(met, state.thresholdsFirstObservedAt, now);
  const conditionsLastObservedAt = nodeConditionsLastObservedAt(nodeConditions(met), state.nodeConditionsLastObservedAt, now);
  const conditions = nodeConditionsObservedSince(conditionsLastObservedAt, period, now);
  const pastGrace = thresholdsMetGracePeriod(firstObservedAt, now);
  // Remembered before the stale-stats filter: a threshold waiting on fresh stats still keeps its
  // min-reclaim hold next round.
  const active = state.lastObservations === null ? pastGrace : thresholdsUpdatedStats(pastGrace, observations, state.lastObservations);
  return {
    state: {
      thresholdsMet: pastGrace,
      thresholdsFirstObservedAt: firstObservedAt,
      nodeConditionsLastObservedAt: conditionsLastObservedAt,
      lastObservations: observations,
    },
    activeThresholds: active,
    nodeConditions: conditions,
  };
}

/**
 * The threshold a round reclaims for (upstream byEvictionPriority, then the first): memory signals
 * before every other, otherwise the first active threshold; null when none is active.
 * @example thresholdToReclaim([nodefsThreshold, memoryThreshold]) // memoryThreshold
 */
export function thresholdToReclaim(active: readonly Threshold[]): Threshold | null {
  return active.find((t) => t.signal === 'memory.available' || t.signal === 'allocatableMemory.available') ?? active[0] ?? null;
}
