import { performance } from 'node:perf_hooks';

/** A positive integer from the environment (bench sizes and seeds), or the fallback when unset. */
export function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/**
 * Operations per second of `fn` doing `count` operations: best of three timed passes after an untimed warm-up.
 * The machine is shared, so the fastest pass is the least disturbed one.
 */
export function perSecond(count: number, fn: () => void): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return count / (best / 1000);
}
