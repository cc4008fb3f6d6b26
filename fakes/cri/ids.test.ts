import { describe, expect, it } from 'vitest';
import { IdGenerator } from './ids.js';

describe('IdGenerator', () => {
  it('makes 64 lowercase hex digits', () => {
    const ids = new IdGenerator('s');
    for (const kind of ['sandbox', 'container', 'exec']) expect(ids.next(kind)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never repeats an ID or its first 8 digits, whatever the kinds asked for', () => {
    const ids = new IdGenerator('fake-cri');
    const kinds = ['sandbox', 'container', 'exec'];
    const seen = new Set<string>();
    const prefixes = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      const id = ids.next(kinds[i % 3]!);
      seen.add(id);
      prefixes.add(id.slice(0, 8));
    }
    expect(seen.size).toBe(200_000);
    expect(prefixes.size).toBe(200_000);
  });

  it('repeats the same IDs for the same seed and differs for another seed or kind', () => {
    const run = (seed: string, kind: string): string[] => {
      const ids = new IdGenerator(seed);
      return Array.from({ length: 5 }, () => ids.next(kind));
    };
    expect(run('a', 'sandbox')).toEqual(run('a', 'sandbox'));
    expect(run('a', 'sandbox')[0]).not.toBe(run('b', 'sandbox')[0]);
    const [sandbox] = run('a', 'sandbox');
    const [container] = run('a', 'container');
    // The same counter under another kind: the first 8 digits follow the counter, the rest the kind too.
    expect(container!.slice(0, 8)).toBe(sandbox!.slice(0, 8));
    expect(container!.slice(8)).not.toBe(sandbox!.slice(8));
  });

  it('spreads consecutive IDs over the digits (no visible counter)', () => {
    const ids = new IdGenerator('fake-cri');
    const firstDigits = new Set(Array.from({ length: 64 }, () => ids.next('sandbox')[0]));
    expect(firstDigits.size).toBeGreaterThan(10);
  });
});
