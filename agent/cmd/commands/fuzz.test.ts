import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { NamedProperty } from '../../../property-tests/properties/types.js';
import { runFuzz, selectProperties, type FuzzIo } from './fuzz.js';

function recorder(): FuzzIo & { lines: string[] } {
  const lines: string[] = [];
  let t = 0;
  return { lines, out: (l) => lines.push(l), err: () => {}, progress: () => {}, now: () => (t += 1) };
}

const failing: NamedProperty = {
  name: 'numbers stay below 1000',
  property: fc.property(fc.integer({ min: 0, max: 5000 }), (n) => n < 1000) as unknown as NamedProperty['property'],
};

describe('kubelet-harness fuzz', () => {
  it('prints the same report twice for the same seed', async () => {
    const a = recorder();
    const b = recorder();
    await runFuzz({ target: 'probes', runs: 50, seed: 42, property: 'crash loop' }, a);
    await runFuzz({ target: 'probes', runs: 50, seed: 42, property: 'crash loop' }, b);
    expect(a.lines).toEqual(b.lines);
    expect(a.lines.at(-1)).toBe('passed: 2 passed, 0 failed');
    const c = recorder();
    await runFuzz({ target: 'probes', runs: 50, seed: 43, property: 'crash loop' }, c);
    expect(c.lines).not.toEqual(a.lines);
  });

  it('prints the shrunk counterexample and a replay command that reproduces it', async () => {
    const source = () => [failing];
    const first = recorder();
    const report = await runFuzz({ target: 'qos', runs: 200, seed: 5 }, first, source);
    expect(report).toEqual({ passed: 0, failed: 1 });
    expect(first.lines).toContain('  counterexample: [1000]');
    const replay = first.lines.find((l) => l.includes('replay:')) ?? '';
    const match = /--seed (\S+) --path (\S+) --runs 200 --property 'numbers stay below 1000'$/.exec(replay);
    expect(match).not.toBeNull();
    const again = recorder();
    await runFuzz({ target: 'qos', runs: 200, seed: Number(match?.[1]), path: match?.[2] ?? '' }, again, source);
    expect(again.lines).toContain('  counterexample: [1000]');
  });

  it('explains bad selections', () => {
    expect(() => selectProperties('probes', 'no such property')).toThrow('matches no probes property');
    expect(() => selectProperties('probes', undefined, undefined, () => [])).toThrow('has no properties registered');
  });

  it('refuses a replay path for more than one property', async () => {
    await expect(runFuzz({ target: 'probes', runs: 1, seed: 1, path: '0' }, recorder())).rejects.toThrow('--path replays one property');
  });
});
