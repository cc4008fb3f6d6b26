import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';

describe('seededRandom', () => {
  it('repeats its sequence for the same seed, with distinct numbers in [0, 1)', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBe(5);
  });

  it('gives a different sequence for another seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(8);
    expect(Array.from({ length: 5 }, () => b())).not.toEqual(Array.from({ length: 5 }, () => a()));
  });
});
