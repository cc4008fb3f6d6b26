/**
 * Kubelet eviction flags (`--eviction-hard memory.available<100Mi,nodefs.available<10%` …) turned
 * into the configuration maps parseEvictionThresholds reads. A flag that is present replaces the
 * whole map (so `--eviction-hard` drops the defaults it does not name); an absent flag leaves the
 * setting unset.
 */
import { parseLangleSeparated, parseMapStringString, parseStringList } from '../config/flag-syntax.js';
import { InvalidInputError } from '../util/invalid-input.js';
import type { EvictionThresholdConfig } from './thresholds.js';

export interface EvictionFlags {
  readonly 'eviction-hard'?: string;
  readonly 'eviction-soft'?: string;
  readonly 'eviction-soft-grace-period'?: string;
  readonly 'eviction-minimum-reclaim'?: string;
  readonly 'enforce-node-allocatable'?: string;
}

function parseFlag<T>(flags: EvictionFlags, name: keyof EvictionFlags, parse: (text: string) => T): T | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  if (typeof text !== 'string') throw new InvalidInputError(`--${name}`, `must be a string, got ${typeof text}`);
  try {
    return parse(text);
  } catch (error) {
    throw new InvalidInputError(`--${name}`, (error as Error).message);
  }
}

/**
 * @example evictionConfigFromFlags({ 'eviction-hard': 'memory.available<200Mi', 'eviction-soft-grace-period': 'memory.available=1m' })
 *   // { evictionHard: { 'memory.available': '200Mi' }, evictionSoftGracePeriod: { 'memory.available': '1m' } }
 */
export function evictionConfigFromFlags(flags: EvictionFlags): EvictionThresholdConfig {
  const evictionHard = parseFlag(flags, 'eviction-hard', parseLangleSeparated);
  const evictionSoft = parseFlag(flags, 'eviction-soft', parseLangleSeparated);
  const evictionSoftGracePeriod = parseFlag(flags, 'eviction-soft-grace-period', parseMapStringString);
  const evictionMinimumReclaim = parseFlag(flags, 'eviction-minimum-reclaim', parseMapStringString);
  const enforceNodeAllocatable = parseFlag(flags, 'enforce-node-allocatable', parseStringList);
  return {
    ...(evictionHard === undefined ? {} : { evictionHard }),
    ...(evictionSoft === undefined ? {} : { evictionSoft }),
    ...(evictionSoftGracePeriod === undefined ? {} : { evictionSoftGracePeriod }),
    ...(evictionMinimumReclaim === undefined ? {} : { evictionMinimumReclaim }),
    ...(enforceNodeAllocatable === undefined ? {} : { enforceNodeAllocatable }),
  };
}
