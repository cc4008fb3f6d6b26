import fc from 'fast-check';
import { describe, it } from 'vitest';
import { probeProperties } from './properties/probes.js';

describe('probe worker properties', () => {
  for (const { name, property } of probeProperties) {
    it(name, () => {
      fc.assert(property, { numRuns: 1000 });
    });
  }
});
