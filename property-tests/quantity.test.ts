import fc from 'fast-check';
import { describe, it } from 'vitest';
import { quantityProperties } from './properties/quantity.js';

describe('resource.Quantity properties (1,000 runs each)', () => {
  for (const { name, property } of quantityProperties) {
    it(name, () => {
      fc.assert(property, { numRuns: 1000 });
    });
  }
});
