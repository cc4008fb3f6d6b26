import { describe, expect, it } from 'vitest';
import { medianRatio, perRoundRatios, pooledRate, roundSteps, warmUpLifecycles } from './fake-cri-rounds.js';

describe('bench/fake-cri rounds', () => {
  it('mirror the pair\'s halves around the reference batch, swapping the pair every other round', () => {
    const reference = { target: 'containerd', lifecycles: 10 };
    expect(roundSteps(['fake', 'transport'], 150, reference, 0)).toEqual([
      { target: 'fake', lifecycles: 75 },
      { target: 'transport', lifecycles: 75 },
      { target: 'containerd', lifecycles: 10 },
      { target: 'transport', lifecycles: 75 },
      { target: 'fake', lifecycles: 75 },
    ]);
    expect(roundSteps(['fake', 'transport'], 151, reference, 1).map((s) => `${s.target} ${s.lifecycles}`)).toEqual([
      'transport 75',
      'fake 75',
      'containerd 10',
      'fake 76',
      'transport 76',
    ]);
  });

  it('without a reference run the pair as A B B A', () => {
    expect(roundSteps(['a', 'b'], 4, null, 2).map((s) => s.target)).toEqual(['a', 'b', 'b', 'a']);
  });

  it('refuse a pair batch that cannot be halved and a negative round', () => {
    expect(() => roundSteps(['a', 'b'], 1, null, 0)).toThrow(/at least 2/);
    expect(() => roundSteps(['a', 'b'], 4, null, -1)).toThrow(/round/);
  });

  it('pool a target\'s batches as all lifecycles over all time', () => {
    expect(pooledRate([{ lifecycles: 75, ms: 250 }, { lifecycles: 75, ms: 500 }])).toBe(200);
    expect(() => pooledRate([])).toThrow(/at least one lifecycle/);
    expect(() => pooledRate([{ lifecycles: 3, ms: 0 }])).toThrow(/some time/);
  });

  it('take ratios round by round and their median', () => {
    expect(perRoundRatios([300, 400, 330], [3, 4, 3])).toEqual([100, 100, 110]);
    expect(medianRatio([300, 280, 330, 120], [3, 2, 3, 2])).toBe(105);
    expect(() => perRoundRatios([1, 2], [1])).toThrow(/as many rounds/);
  });

  it('warm every target up with a tenth of its measured lifecycles, at least one', () => {
    expect(warmUpLifecycles(1500)).toBe(150);
    expect(warmUpLifecycles(50)).toBe(5);
    expect(warmUpLifecycles(4)).toBe(1);
    expect(() => warmUpLifecycles(0)).toThrow(/positive integer/);
  });
});
