/** Shared by the registry-level tests: a fresh bootstrapped registry, and the ApiError a call throws. */
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { thrownBy } from '../../ci/util/thrown.js';
import { ApiRegistry } from './registry.js';
import { ApiError } from './status.js';
import { ObjectStore } from './store.js';

/** A registry on an empty store (bootstrapped: default namespaces) with a virtual clock at a fixed date. */
export function testRegistry(options: { historyLimit?: number } = {}) {
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 10, 27, 6, 0, 0) });
  const store = new ObjectStore(options);
  const registry = new ApiRegistry(store, clock);
  registry.bootstrap();
  return { clock, store, registry, pods: registry.type('', 'pods') };
}

/** The ApiError `fn` throws (its code and causes are what the tests check). */
export function apiError(fn: () => unknown): ApiError {
  return thrownBy(ApiError, fn);
}
