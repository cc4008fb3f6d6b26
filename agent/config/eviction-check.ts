import { parseGoDuration } from './duration.js';
import { parseQuantity } from '../resources/quantity.js';
import type { KubeletConfiguration } from './types.js';

// INTERIM: replaced by agent/eviction's parseEvictionThresholds as soon as it is committed.
const SIGNALS = new Set([
  'memory.available', 'allocatableMemory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available',
  'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree', 'pid.available',
]);

class EvictionConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

/** Checks the eviction maps the way kubelet's ParseThresholdConfig does; throws naming the entry. */
export function checkEvictionConfig(c: KubeletConfiguration): void {
  const maps = [
    ['evictionHard', c.evictionHard],
    ['evictionSoft', c.evictionSoft],
    ['evictionSoftGracePeriod', c.evictionSoftGracePeriod],
    ['evictionMinimumReclaim', c.evictionMinimumReclaim],
  ] as const;
  for (const [field, map] of maps) {
    for (const [signal, value] of Object.entries(map)) {
      const at = `${field}[${signal}]`;
      if (!SIGNALS.has(signal)) throw new EvictionConfigError(at, `unsupported eviction signal ${signal}`);
      if (field === 'evictionSoftGracePeriod') {
        let ms: number;
        try {
          ms = parseGoDuration(value);
        } catch (err) {
          throw new EvictionConfigError(at, (err as Error).message);
        }
        if (ms < 0) throw new EvictionConfigError(at, 'must be positive');
        continue;
      }
      if (value.endsWith('%')) {
        if (field !== 'evictionMinimumReclaim' && (value === '0%' || value === '100%')) continue;
        const pct = Number(value.replace(/%+$/, ''));
        if (!Number.isFinite(pct)) throw new EvictionConfigError(at, `invalid percentage ${value}`);
        if (pct < 0 || (field === 'evictionMinimumReclaim' && pct <= 0)) throw new EvictionConfigError(at, `${value} must be > 0%`);
        if (pct > 100) throw new EvictionConfigError(at, `${value} must be <= 100%`);
        continue;
      }
      let sign: number;
      try {
        sign = parseQuantity(value).sign();
      } catch (err) {
        throw new EvictionConfigError(at, (err as Error).message);
      }
      if (field === 'evictionMinimumReclaim' ? sign < 0 : sign <= 0) {
        throw new EvictionConfigError(at, `eviction threshold ${signal} must be positive: ${value}`);
      }
    }
  }
  for (const signal of Object.keys(c.evictionSoft)) {
    if (!(signal in c.evictionSoftGracePeriod)) {
      throw new EvictionConfigError(`evictionSoftGracePeriod[${signal}]`, `grace period must be specified for the soft eviction threshold ${signal}`);
    }
  }
}
