/**
 * The interleaved rounds of bench/fake-cri's lifecycle figures (pure). This machine's speed drifts by tens of
 * per cent within a minute, and containerd's batch takes seconds, so runtimes measured in separate phases
 * compare the machine's moods as much as the runtimes. Instead every round measures each target once,
 * back to back, and the figures are the medians of the per-round ratios.
 */
import { median } from './cri-roundtrip-stats.js';

/** One timed batch of lifecycles. */
export interface Batch {
  readonly lifecycles: number;
  readonly ms: number;
}

/** One step of a round: `lifecycles` of `target` in a row. */
export interface Step<T> {
  readonly target: T;
  readonly lifecycles: number;
}

/**
 * The order of one round. The two cheap targets (the fake and the transport) each run in two halves
 * mirrored around the reference's single batch (A B R B A), so a drift that is linear over the round
 * weighs the same on all three; odd rounds swap A and B, so neither is always the one next to the
 * reference. Without a reference the round is A B B A.
 */
export function roundSteps<T>(pair: readonly [T, T], perPair: number, reference: { target: T; lifecycles: number } | null, round: number): Step<T>[] {
  if (!Number.isInteger(perPair) || perPair < 2) throw new RangeError(`each of the pair needs at least 2 lifecycles per round (two halves), got ${perPair}`);
  if (!Number.isInteger(round) || round < 0) throw new RangeError(`round must be a non-negative integer, got ${round}`);
  const [a, b] = round % 2 === 0 ? pair : [pair[1], pair[0]];
  const first = Math.floor(perPair / 2);
  const second = perPair - first;
  const middle: Step<T>[] = reference ? [{ target: reference.target, lifecycles: reference.lifecycles }] : [];
  return [{ target: a, lifecycles: first }, { target: b, lifecycles: first }, ...middle, { target: b, lifecycles: second }, { target: a, lifecycles: second }];
}

/** Lifecycles per second over batches: all their lifecycles over all their time. */
export function pooledRate(batches: readonly Batch[]): number {
  const lifecycles = batches.reduce((sum, b) => sum + b.lifecycles, 0);
  const ms = batches.reduce((sum, b) => sum + b.ms, 0);
  if (lifecycles === 0 || !(ms > 0)) throw new RangeError('a rate needs at least one lifecycle and some time');
  return (lifecycles / ms) * 1000;
}

/** a[i] / b[i] for each round i. */
export function perRoundRatios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`per-round ratios need as many rounds on both sides (${a.length} vs ${b.length})`);
  return a.map((x, i) => x / b[i]!);
}

/** The median of per-round ratios a[i] / b[i]. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(perRoundRatios(a, b));
}

/**
 * Warm-up lifecycles before a target's first round, not measured: a tenth of all it will run measured (at
 * least one, which also pulls the pause image on a real runtime). The same rule for every target, so a
 * JIT-compiled server is measured warm as a Go one is.
 */
export function warmUpLifecycles(measured: number): number {
  if (!Number.isInteger(measured) || measured < 1) throw new RangeError(`measured lifecycles must be a positive integer, got ${measured}`);
  return Math.max(1, Math.round(measured / 10));
}
