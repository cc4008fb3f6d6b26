/**
 * Eviction and allocatable properties (kubelet-semantics §5, §6): threshold text round trips, the
 * met rule, grace and pressure-transition bookkeeping against a streak model, ranking as a total
 * order obeying the documented keys, and allocatable as the reservation formula.
 */
import fc from 'fast-check';
import { evictionAdmit } from '../../agent/eviction/admission.js';
import { INITIAL_EVICTION_ROUND_STATE, evaluateEvictionRound, thresholdsMet, type SignalObservations } from '../../agent/eviction/evaluation.js';
import { evictionConfigFromFlags } from '../../agent/eviction/flags.js';
import { rankPodsForEviction, selectPodToEvict, type MissingStatsPolicy } from '../../agent/eviction/ranking.js';
import { EVICTION_SIGNALS, type EvictionSignal, type PressureCondition } from '../../agent/eviction/signals.js';
import { formatThresholdValue, parseEvictionThresholds, type ThresholdValue } from '../../agent/eviction/thresholds.js';
import { nodeAllocatable } from '../../agent/resources/allocatable.js';
import { Quantity } from '../../agent/resources/quantity.js';
import {
  observationArb,
  rankingCaseArb,
  signalArb,
  thresholdMapArb,
  thresholdValueArb,
  type RankedPodCase,
  type ThresholdValueCase,
} from '../arbitraries/eviction.js';
import type { NamedProperty } from './types.js';

const NO_MIRROR = { enforceNodeAllocatable: [] as string[] };

function modelAmount(value: ThresholdValueCase, capacity: bigint): bigint {
  return value.kind === 'quantity' ? value.amount : BigInt(Math.trunc(Number(capacity) * value.fraction));
}

function sameValue(a: ThresholdValue, b: ThresholdValue): boolean {
  if (a.quantity !== undefined || b.quantity !== undefined) return a.quantity !== undefined && b.quantity !== undefined && a.quantity.cmp(b.quantity) === 0;
  return a.percentage === b.percentage;
}

function matchesModel(value: ThresholdValue, model: ThresholdValueCase): boolean {
  return model.kind === 'quantity' ? value.quantity?.value() === model.amount : value.percentage === model.fraction;
}

/** Model ranking keys, smaller first, compared lexicographically. */
function rankKey(signal: EvictionSignal, p: RankedPodCase, policy: MissingStatsPolicy): bigint[] {
  const priority = BigInt(p.priority);
  if (signal === 'pid.available') return [priority, p.stats === null ? 0n : 1n, -BigInt(p.stats?.processes ?? 0)];
  if (p.stats === null) return [policy === 'rankFirst' ? 0n : 1n, priority, 0n];
  const memory = signal === 'memory.available' || signal === 'allocatableMemory.available';
  const usage = memory
    ? p.stats.memoryWorkingSetBytes ?? 0n
    : (p.stats.rootfsBytes ?? 0n) + (p.stats.logsBytes ?? 0n) + (p.stats.localVolumesBytes ?? 0n);
  const request = memory ? p.memoryRequest : p.storageRequest;
  const exceeds = usage > request;
  const group = policy === 'rankFirst' ? (exceeds ? 1n : 2n) : exceeds ? 0n : 2n;
  return [group, priority, request - usage];
}

function compareKeys(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const rankingSignalArb = fc.constantFrom<EvictionSignal>('memory.available', 'allocatableMemory.available', 'nodefs.available', 'imagefs.available', 'pid.available');

export const evictionProperties: NamedProperty[] = [
  {
    name: 'eviction: threshold values parse to their model and their text form parses back to the same thresholds',
    property: fc.property(thresholdMapArb, (entries) => {
      const map = Object.fromEntries(entries.map(([signal, value]) => [signal, value.text]));
      const parsed = parseEvictionThresholds({ evictionHard: map, ...NO_MIRROR });
      const reprinted = Object.fromEntries(parsed.map((t) => [t.signal, formatThresholdValue(t.value)]));
      const again = parseEvictionThresholds({ evictionHard: reprinted, ...NO_MIRROR });
      return (
        parsed.length === entries.length &&
        parsed.every((t, i) => t.signal === entries[i]![0] && matchesModel(t.value, entries[i]![1])) &&
        again.length === parsed.length &&
        again.every((t, i) => t.signal === parsed[i]!.signal && sameValue(t.value, parsed[i]!.value))
      );
    }),
  },
  {
    name: 'eviction: flag strings carry the same thresholds as the config maps',
    property: fc.property(thresholdMapArb, thresholdMapArb, (hardEntries, reclaimEntries) => {
      const hard = Object.fromEntries(hardEntries.map(([s, v]) => [s, v.text]));
      const reclaim = Object.fromEntries(reclaimEntries.map(([s, v]) => [s, v.text]));
      const fromFlags = parseEvictionThresholds(
        evictionConfigFromFlags({
          'eviction-hard': hardEntries.map(([s, v]) => `${s}<${v.text}`).join(','),
          'eviction-minimum-reclaim': reclaimEntries.map(([s, v]) => `${s}=${v.text}`).join(','),
        }),
      );
      const fromConfig = parseEvictionThresholds({ evictionHard: hard, evictionMinimumReclaim: reclaim });
      return (
        fromFlags.length === fromConfig.length &&
        fromFlags.every((t, i) => {
          const u = fromConfig[i]!;
          const reclaimSame = (t.minReclaim ?? null) === null ? (u.minReclaim ?? null) === null : u.minReclaim != null && sameValue(t.minReclaim!, u.minReclaim);
          return t.signal === u.signal && sameValue(t.value, u.value) && reclaimSame;
        })
      );
    }),
  },
  {
    name: 'eviction: a threshold is met iff its quantity (plus min reclaim when enforced) exceeds what is available',
    property: fc.property(
      thresholdMapArb,
      fc.dictionary(signalArb, thresholdValueArb),
      fc.dictionary(signalArb, observationArb),
      fc.boolean(),
      (entries, reclaims, observed, enforce) => {
        const map = Object.fromEntries(entries.map(([s, v]) => [s, v.text]));
        const reclaimMap = Object.fromEntries(Object.entries(reclaims).map(([s, v]) => [s, v.text]));
        const thresholds = parseEvictionThresholds({ evictionHard: map, evictionMinimumReclaim: reclaimMap, ...NO_MIRROR });
        const observations: Record<string, { available: string; capacity: Quantity }> = {};
        for (const [signal, o] of Object.entries(observed)) {
          observations[signal] = { available: `${o.available}`, capacity: Quantity.fromBigInt(o.capacity, 'BinarySI') };
        }
        const met = new Set(thresholdsMet(thresholds, observations as SignalObservations, enforce).map((m) => m.threshold.signal));
        return entries.every(([signal, value]) => {
          const o = observed[signal];
          if (o === undefined) return !met.has(signal);
          const reclaim = reclaims[signal];
          const required = modelAmount(value, o.capacity) + (enforce && reclaim !== undefined ? modelAmount(reclaim, o.capacity) : 0n);
          return met.has(signal) === required > o.available;
        });
      },
    ),
  },
  {
    name: 'eviction: soft thresholds act after an unbroken grace period; conditions last the transition period',
    property: fc.property(
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 0, max: 120 }),
      fc.array(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.boolean()), { minLength: 1, maxLength: 30 }),
      (grace, period, rounds) => {
        const thresholds = parseEvictionThresholds({
          evictionHard: {},
          evictionSoft: { 'nodefs.available': '1Gi' },
          evictionSoftGracePeriod: { 'nodefs.available': `${grace}s` },
        });
        let state = INITIAL_EVICTION_ROUND_STATE;
        let now = 0;
        let streakStart: number | null = null;
        let lastMet: number | null = null;
        for (const [dt, pressure] of rounds) {
          now += dt;
          const observations = { 'nodefs.available': { available: pressure ? '512Mi' : '2Gi', capacity: '100Gi' } };
          const round = evaluateEvictionRound(state, { thresholds, observations, now, pressureTransitionPeriodSeconds: period });
          state = round.state;
          streakStart = pressure ? streakStart ?? now : null;
          if (pressure) lastMet = now;
          const shouldAct = streakStart !== null && now - streakStart >= grace;
          const shouldReport = lastMet !== null && now - lastMet < period;
          if ((round.activeThresholds.length === 1) !== shouldAct) return false;
          if ((round.nodeConditions.length === 1 && round.nodeConditions[0] === 'DiskPressure') !== shouldReport) return false;
          if (round.nodeConditions.length > 1) return false;
        }
        return true;
      },
    ),
  },
  {
    name: 'eviction: ranking is a permutation sorted by (no stats, over request, priority, usage − request)',
    property: fc.property(rankingSignalArb, rankingCaseArb, fc.constantFrom<MissingStatsPolicy>('rankFirst', 'afterMeasuredOverRequest'), (signal, cases, policy) => {
      const byPod = new Map(cases.map((c) => [c.pod, c]));
      const ranked = rankPodsForEviction(signal, cases, { missingStats: policy });
      if (ranked.length !== cases.length || new Set(ranked).size !== cases.length) return false;
      const keys = ranked.map((pod) => rankKey(signal, byPod.get(pod)!, policy));
      return keys.every((key, i) => i === 0 || compareKeys(keys[i - 1]!, key) <= 0);
    }),
  },
  {
    name: 'eviction: ranking does not depend on input order beyond ties, and never selects a critical pod',
    property: fc.property(rankingSignalArb, rankingCaseArb.chain((cases) => fc.tuple(fc.constant(cases), fc.shuffledSubarray(cases, { minLength: cases.length, maxLength: cases.length }))), (signal, [cases, shuffled]) => {
      const byPod = new Map(cases.map((c) => [c.pod, c]));
      const keysOf = (list: readonly RankedPodCase[]) => rankPodsForEviction(signal, list).map((pod) => rankKey(signal, byPod.get(pod)!, 'rankFirst'));
      const a = keysOf(cases);
      const b = keysOf(shuffled);
      const sameKeys = a.every((key, i) => compareKeys(key, b[i]!) === 0);
      const ranked = rankPodsForEviction(signal, cases);
      const chosen = selectPodToEvict(ranked);
      const firstOrdinary = ranked.find((pod) => !byPod.get(pod)!.critical) ?? null;
      return sameKeys && chosen === firstOrdinary;
    }),
  },
  {
    name: 'eviction: admission under pressure follows the condition rules',
    property: fc.property(rankedPodArbForAdmission(), fc.subarray<PressureCondition>(['MemoryPressure', 'DiskPressure', 'PIDPressure']), ({ pod, critical, bestEffort }, conditions) => {
      const result = evictionAdmit(pod, { nodeConditions: conditions });
      const onlyMemory = conditions.length === 1 && conditions[0] === 'MemoryPressure';
      const expected = conditions.length === 0 || critical || (onlyMemory && !bestEffort);
      return result.admit === expected && (result.admit || result.message === `The node had condition: [${conditions.join(' ')}]. `);
    }),
  },
  {
    name: 'allocatable: never negative and equal to capacity − reservations − hard eviction − huge pages',
    property: fc.property(allocatableCaseArb(), (c) => {
      const allocatable = nodeAllocatable(c.input);
      const clamp = (x: bigint) => (x < 0n ? 0n : x);
      const memoryThreshold = c.memoryEviction === undefined ? 0n : modelAmount(c.memoryEviction, c.memory);
      const storageThreshold = c.storageEviction === undefined ? 0n : modelAmount(c.storageEviction, c.storage);
      const memory = clamp(clamp(c.memory - c.reservedMemory - memoryThreshold) - c.hugepages);
      const storage = clamp(c.storage - storageThreshold);
      const cpu = clamp(c.cpuMillis - c.reservedCpuMillis);
      return (
        Object.values(allocatable).every((q) => q.sign() >= 0) &&
        allocatable.memory?.value() === memory &&
        allocatable['ephemeral-storage']?.value() === storage &&
        allocatable.cpu?.milliValue() === cpu &&
        allocatable.pods?.value() === 110n &&
        allocatable['hugepages-2Mi']?.value() === c.hugepages
      );
    }),
  },
];

function rankedPodArbForAdmission() {
  return rankingCaseArb
    .filter((cases) => cases.length > 0)
    .map((cases) => {
      const c = cases[0]!;
      return { pod: c.pod, critical: c.critical, bestEffort: c.memoryRequest === 0n && c.pod.spec!.containers.every((x) => x.resources?.requests?.cpu === undefined) };
    });
}

function allocatableCaseArb() {
  const maybeEviction = fc.option(thresholdValueArb, { nil: undefined });
  return fc
    .record({
      cpuMillis: fc.bigInt({ min: 0n, max: 64000n }),
      memory: fc.bigInt({ min: 0n, max: 1n << 38n }),
      storage: fc.bigInt({ min: 0n, max: 1n << 42n }),
      hugepages: fc.bigInt({ min: 0n, max: 64n }).map((n) => n * (2n << 20n)),
      systemCpu: fc.bigInt({ min: 0n, max: 2000n }),
      kubeCpu: fc.bigInt({ min: 0n, max: 2000n }),
      systemMemory: fc.bigInt({ min: 0n, max: 1n << 31n }),
      kubeMemory: fc.bigInt({ min: 0n, max: 1n << 31n }),
      memoryEviction: maybeEviction,
      storageEviction: maybeEviction,
      otherSignal: fc.constantFrom(...EVICTION_SIGNALS.filter((s) => s !== 'memory.available' && s !== 'nodefs.available')),
    })
    .map((c) => {
      const evictionHard: Record<string, string> = { [c.otherSignal]: '50%' };
      if (c.memoryEviction !== undefined) evictionHard['memory.available'] = c.memoryEviction.text;
      if (c.storageEviction !== undefined) evictionHard['nodefs.available'] = c.storageEviction.text;
      return {
        ...c,
        reservedCpuMillis: c.systemCpu + c.kubeCpu,
        reservedMemory: c.systemMemory + c.kubeMemory,
        input: {
          capacity: {
            cpu: `${c.cpuMillis}m`,
            memory: `${c.memory}`,
            'ephemeral-storage': `${c.storage}`,
            pods: '110',
            'hugepages-2Mi': `${c.hugepages}`,
          },
          systemReserved: { cpu: `${c.systemCpu}m`, memory: `${c.systemMemory}` },
          kubeReserved: { cpu: `${c.kubeCpu}m`, memory: `${c.kubeMemory}` },
          evictionHard,
        },
      };
    });
}

