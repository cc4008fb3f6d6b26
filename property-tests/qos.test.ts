import fc from 'fast-check';
import { describe, it } from 'vitest';
import { qosProperties } from './properties/qos.js';

describe('QoS properties (1,000 runs each)', () => {
  for (const { name, property } of qosProperties) {
    it(name, () => {
      fc.assert(property, { numRuns: 1000 });
    });
  }
});
