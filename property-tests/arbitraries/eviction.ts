/**
 * Eviction inputs with plain-number models: threshold statements, observations, and pods with
 * priority, memory/disk requests and measured usage for ranking.
 */
import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { EVICTION_SIGNALS, type EvictionSignal } from '../../agent/eviction/signals.js';
import type { PodUsage } from '../../agent/eviction/ranking.js';
import { bytesTextArb } from './quantity.js';

export const signalArb: fc.Arbitrary<EvictionSignal> = fc.constantFrom(...EVICTION_SIGNALS);

/** A threshold value as config text, with its model: an exact integer amount or a float32 fraction. */
export type ThresholdValueCase =
  | { readonly text: string; readonly kind: 'quantity'; readonly amount: bigint }
  | { readonly text: string; readonly kind: 'percentage'; readonly fraction: number };

export const thresholdValueArb: fc.Arbitrary<ThresholdValueCase> = fc.oneof(
  fc
    .bigInt({ min: 1n, max: 1n << 40n })
    .chain((amount) => bytesTextArb(fc.constant(amount)).map((text): ThresholdValueCase => ({ text, kind: 'quantity', amount }))),
  fc
    .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 2 }))
    .filter(([n, decimals]) => n / 10 ** decimals > 0 && n / 10 ** decimals < 100)
    .map(([n, decimals]): ThresholdValueCase => {
      const text = `${(n / 10 ** decimals).toFixed(decimals)}%`;
      return { text, kind: 'percentage', fraction: Math.fround(Math.fround(Number(text.slice(0, -1))) / 100) };
    }),
);

/** A map of distinct signals to threshold values. */
export const thresholdMapArb: fc.Arbitrary<ReadonlyArray<readonly [EvictionSignal, ThresholdValueCase]>> = fc.uniqueArray(
  fc.tuple(signalArb, thresholdValueArb),
  { selector: ([signal]) => signal, maxLength: EVICTION_SIGNALS.length },
);

/** An observation: capacity and available amounts (available may exceed capacity; nothing forbids it). */
export const observationArb: fc.Arbitrary<{ readonly available: bigint; readonly capacity: bigint }> = fc.record({
  available: fc.bigInt({ min: 0n, max: 1n << 41n }),
  capacity: fc.bigInt({ min: 0n, max: 1n << 41n }),
});

export interface RankedPodCase {
  readonly pod: V1Pod;
  readonly stats: PodUsage | null;
  /** Model: sum of the containers' memory and ephemeral-storage requests, in bytes. */
  readonly memoryRequest: bigint;
  readonly storageRequest: bigint;
  readonly priority: number;
  readonly critical: boolean;
}

const MI = 1n << 20n;

/** One pod for ranking: 1–2 containers with optional requests, a priority, and usage or no stats. */
export const rankedPodArb: fc.Arbitrary<RankedPodCase> = fc
  .record({
    requests: fc.array(
      fc.record({
        memory: fc.option(fc.bigInt({ min: 0n, max: 64n }), { nil: undefined }),
        storage: fc.option(fc.bigInt({ min: 0n, max: 64n }), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 2 },
    ),
    priority: fc.option(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(2000000000, 2000001000)), { nil: undefined }),
    static: fc.boolean(),
    stats: fc.option(
      fc.record({
        memory: fc.bigInt({ min: 0n, max: 96n }),
        rootfs: fc.bigInt({ min: 0n, max: 48n }),
        logs: fc.bigInt({ min: 0n, max: 48n }),
        volumes: fc.bigInt({ min: 0n, max: 48n }),
        processes: fc.integer({ min: 0, max: 50 }),
      }),
      { nil: null, freq: 4 },
    ),
  })
  .map(({ requests, priority, static: isStatic, stats }) => {
    const containers = requests.map((r, i) => {
      const list: Record<string, string> = {};
      if (r.memory !== undefined) list.memory = `${r.memory}Mi`;
      if (r.storage !== undefined) list['ephemeral-storage'] = `${r.storage * MI}`;
      return { name: `c${i}`, resources: { requests: list } };
    });
    const pod: V1Pod = {
      metadata: { name: 'p', ...(isStatic ? { annotations: { 'kubernetes.io/config.source': 'file' } } : {}) },
      spec: { containers, ...(priority === undefined ? {} : { priority }) },
    };
    const usage: PodUsage | null =
      stats === null
        ? null
        : {
            memoryWorkingSetBytes: stats.memory * MI,
            rootfsBytes: stats.rootfs * MI,
            logsBytes: stats.logs * MI,
            localVolumesBytes: stats.volumes * MI,
            processes: stats.processes,
          };
    return {
      pod,
      stats: usage,
      memoryRequest: requests.reduce((sum, r) => sum + (r.memory ?? 0n) * MI, 0n),
      storageRequest: requests.reduce((sum, r) => sum + (r.storage ?? 0n) * MI, 0n),
      priority: priority ?? 0,
      critical: isStatic || (priority ?? 0) >= 2000000000,
    };
  });

/** 0–8 pods, each named by its position so rankings can be traced back to the cases. */
export const rankingCaseArb: fc.Arbitrary<RankedPodCase[]> = fc
  .array(rankedPodArb, { maxLength: 8 })
  .map((pods) => pods.map((p, i) => ({ ...p, pod: { ...p.pod, metadata: { ...p.pod.metadata, name: `pod-${i}` } } })));
