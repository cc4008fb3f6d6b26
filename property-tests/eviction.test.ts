import fc from 'fast-check';
import { describe, it } from 'vitest';
import { evictionProperties } from './properties/eviction.js';

describe('eviction and allocatable properties (1,000 runs each)', () => {
  for (const { name, property } of evictionProperties) {
    it(name, () => {
      fc.assert(property, { numRuns: 1000 });
    });
  }
});
