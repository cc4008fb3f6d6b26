/**
 * Eviction fuzz bench: how many eviction-ranking cases and thresholdsMet evaluations per second the
 * pure logic sustains, with a same-run baseline for each (ratio = cost of the real logic over the
 * cheapest possible version of the same work).
 *   - ranking: rankPodsForEviction over pre-generated cases vs. Array.sort on precomputed numeric keys;
 *   - fuzz: the ranking property (generate + rank + check) through fast-check, seeded;
 *   - thresholdsMet: the default thresholds against pre-generated observations vs. a bare bigint compare.
 * Run: node --experimental-transform-types --disable-warning=ExperimentalWarning \
 *        --import ./fakes/cni/source-loader.mjs bench/fuzz-eviction.ts
 * (BENCH_EVICTION_CASES, BENCH_EVICTION_SEED to change the workload.)
 */
import fc from 'fast-check';
import { thresholdsMet, type SignalObservations } from '../agent/eviction/evaluation.js';
import { rankPodsForEviction } from '../agent/eviction/ranking.js';
import type { EvictionSignal } from '../agent/eviction/signals.js';
import { parseEvictionThresholds } from '../agent/eviction/thresholds.js';
import { Quantity } from '../agent/resources/quantity.js';
import { rankingCaseArb, type RankedPodCase } from '../property-tests/arbitraries/eviction.js';
import { evictionProperties } from '../property-tests/properties/eviction.js';
import { positiveIntFromEnv, perSecond } from './measure.js';

export interface EvictionBenchFigures {
  readonly rankingCasesPerSecond: number;
  readonly rankingBaselinePerSecond: number;
  readonly fuzzCasesPerSecond: number;
  readonly thresholdsMetPerSecond: number;
  readonly thresholdsMetBaselinePerSecond: number;
}



const SIGNALS: readonly EvictionSignal[] = ['memory.available', 'nodefs.available', 'pid.available'];

/** The same order's cheapest form: one numeric key per pod, precomputed, then a sort. */
function baselineKey(signal: EvictionSignal, p: RankedPodCase): number[] {
  if (signal === 'pid.available') return [p.priority, p.stats === null ? 0 : 1, -(p.stats?.processes ?? 0)];
  if (p.stats === null) return [0, p.priority, 0];
  const usage = Number(signal === 'memory.available' ? p.stats.memoryWorkingSetBytes ?? 0n : (p.stats.rootfsBytes ?? 0n) + (p.stats.logsBytes ?? 0n));
  const request = Number(signal === 'memory.available' ? p.memoryRequest : p.storageRequest);
  return [usage > request ? 1 : 2, p.priority, request - usage];
}

export function runEvictionBench(options: { cases: number; seed: number }): EvictionBenchFigures {
  const cases = fc.sample(rankingCaseArb, { numRuns: options.cases, seed: options.seed });
  let sink = 0;

  const rankingCasesPerSecond = perSecond(cases.length * SIGNALS.length, () => {
    for (const signal of SIGNALS) for (const c of cases) sink += rankPodsForEviction(signal, c).length;
  });
  const rankingBaselinePerSecond = perSecond(cases.length * SIGNALS.length, () => {
    for (const signal of SIGNALS) {
      for (const c of cases) {
        const keyed = c.map((p) => ({ p, k: baselineKey(signal, p) }));
        keyed.sort((a, b) => a.k[0]! - b.k[0]! || a.k[1]! - b.k[1]! || a.k[2]! - b.k[2]!);
        sink += keyed.length;
      }
    }
  });

  const rankingProperty = evictionProperties.find((p) => p.name.startsWith('eviction: ranking is a permutation'));
  if (rankingProperty === undefined) throw new Error('ranking property not found');
  const fuzzCasesPerSecond = perSecond(options.cases, () => {
    const details = fc.check(rankingProperty.property, { numRuns: options.cases, seed: options.seed });
    if (details instanceof Promise) throw new Error('the ranking property is unexpectedly asynchronous');
    if (details.failed) throw new Error(`ranking property failed: ${fc.defaultReportMessage(details) ?? 'no report'}`);
  });

  const thresholds = parseEvictionThresholds();
  const observations: SignalObservations[] = fc
    .sample(fc.tuple(fc.bigInt({ min: 0n, max: 1n << 36n }), fc.bigInt({ min: 1n << 30n, max: 1n << 36n })), { numRuns: options.cases, seed: options.seed })
    .map(([available, capacity]) => {
      const observation = { available: Quantity.fromBigInt(available, 'BinarySI'), capacity: Quantity.fromBigInt(capacity, 'BinarySI') };
      return {
        'memory.available': observation,
        'allocatableMemory.available': observation,
        'nodefs.available': observation,
        'nodefs.inodesFree': observation,
        'imagefs.available': observation,
      };
    });
  const thresholdsMetPerSecond = perSecond(observations.length, () => {
    for (const o of observations) sink += thresholdsMet(thresholds, o, true).length;
  });
  const raw = observations.map((o) => [o['memory.available']!.available as Quantity, o['memory.available']!.capacity as Quantity] as const);
  const rawBigints = raw.map(([a, c]) => [a.value(), c.value()] as const);
  const thresholdsMetBaselinePerSecond = perSecond(observations.length, () => {
    for (const [available, capacity] of rawBigints) {
      // Five comparisons of a fixed or percentage threshold, done on bare bigints.
      for (let i = 0; i < thresholds.length; i++) if (capacity / 10n > available) sink++;
    }
  });
  if (sink === -1) console.log('unreachable');
  return { rankingCasesPerSecond, rankingBaselinePerSecond, fuzzCasesPerSecond, thresholdsMetPerSecond, thresholdsMetBaselinePerSecond };
}

export function formatEvictionBench(f: EvictionBenchFigures, cases: number): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const ratio = (a: number, b: number) => (b / a).toFixed(1);
  return [
    `eviction bench (${cases} cases of 0-8 pods, signals memory/nodefs/pid)`,
    `  ranking:       ${n(f.rankingCasesPerSecond)} cases/s   (baseline numeric sort ${n(f.rankingBaselinePerSecond)}/s, ${ratio(f.rankingCasesPerSecond, f.rankingBaselinePerSecond)}x slower)`,
    `  ranking fuzz:  ${n(f.fuzzCasesPerSecond)} cases/s   (generate + rank + check the ordering property)`,
    `  thresholdsMet: ${n(f.thresholdsMetPerSecond)} evaluations/s of ${parseEvictionThresholds().length} default thresholds (baseline bare bigint compares ${n(f.thresholdsMetBaselinePerSecond)}/s, ${ratio(f.thresholdsMetPerSecond, f.thresholdsMetBaselinePerSecond)}x slower)`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cases = positiveIntFromEnv('BENCH_EVICTION_CASES', 20_000);
  const seed = positiveIntFromEnv('BENCH_EVICTION_SEED', 1);
  console.log(formatEvictionBench(runEvictionBench({ cases, seed }), cases));
}
