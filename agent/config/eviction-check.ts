import { InvalidInputError } from '../util/invalid-input.js';
import { isEvictionSignal, parseEvictionThresholds, type Threshold } from '../eviction/index.js';
import type { KubeletConfiguration } from './types.js';

const MAPS = ['evictionHard', 'evictionSoft', 'evictionSoftGracePeriod', 'evictionMinimumReclaim'] as const;

/**
 * The eviction thresholds a configuration describes, parsed by agent/eviction exactly as kubelet's
 * ParseThresholdConfig does. Throws InvalidInputError naming the entry
 * (`evictionHard["memory.availabel"]: unsupported eviction signal memory.availabel`).
 */
export function evictionThresholdsOf(c: KubeletConfiguration): Threshold[] {
  // Name the offending key, not just its map, for a typo in a signal name.
  for (const map of MAPS) {
    for (const signal of Object.keys(c[map])) {
      if (!isEvictionSignal(signal)) throw new InvalidInputError(`${map}[${JSON.stringify(signal)}]`, `unsupported eviction signal ${signal}`);
    }
  }
  return parseEvictionThresholds({
    evictionHard: c.evictionHard,
    evictionSoft: c.evictionSoft,
    evictionSoftGracePeriod: c.evictionSoftGracePeriod,
    evictionMinimumReclaim: c.evictionMinimumReclaim,
    enforceNodeAllocatable: c.enforceNodeAllocatable,
  });
}

export function checkEvictionConfig(c: KubeletConfiguration): void {
  evictionThresholdsOf(c);
}
