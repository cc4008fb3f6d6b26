import fc from 'fast-check';
import { describe, it } from 'vitest';
import { crashLoopProperties } from './properties/probes.js';

describe('crash loop backoff properties', () => {
  for (const { name, property } of crashLoopProperties) {
    it(name, () => {
      fc.assert(property, { numRuns: 1000 });
    });
  }
});
