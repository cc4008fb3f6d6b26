import { describe, expect, it } from 'vitest';
import { FaultInjector, faultRulesFromJson } from './faults.js';

describe('fault injection rules', () => {
  it('fires on the n-th matching call of a method only', () => {
    const f = new FaultInjector([{ method: 'StartContainer', nth: [2, 3], effect: { type: 'error', code: 'UNAVAILABLE' } }]);
    const hits = [1, 2, 3, 4].map(() => f.decide('StartContainer', {}).length);
    expect(hits).toEqual([0, 1, 1, 0]);
    expect(f.decide('Version', {})).toEqual([]);
  });

  it('matches request fields by dotted path, camelCase or snake_case, strings or RegExps', () => {
    const f = new FaultInjector([
      { method: /Sandbox$/, match: { 'config.metadata.name': /^web-/, 'runtime_handler': '' }, effect: { type: 'delay', ms: 10 } },
    ]);
    expect(f.decide('RunPodSandbox', { config: { metadata: { name: 'web-1' } }, runtimeHandler: '' })).toHaveLength(1);
    expect(f.decide('RunPodSandbox', { config: { metadata: { name: 'db-1' } }, runtimeHandler: '' })).toHaveLength(0);
    expect(f.decide('RunPodSandbox', { config: null })).toHaveLength(0);
  });

  it('draws probabilities from a seed, so the same seed fires on the same calls', () => {
    const pattern = (seed: number) => {
      const f = new FaultInjector([{ probability: 0.3, effect: { type: 'hang' } }], seed);
      return Array.from({ length: 200 }, () => f.decide('Version', {}).length).join('');
    };
    expect(pattern(7)).toBe(pattern(7));
    expect(pattern(7)).not.toBe(pattern(8));
    const fired = [...pattern(7)].filter((c) => c === '1').length;
    expect(fired).toBeGreaterThan(30);
    expect(fired).toBeLessThan(90);
  });

  it('limits firing with times and can be removed', () => {
    const f = new FaultInjector();
    const remove = f.add({ method: 'Version', times: 1, effect: { type: 'error', code: 14 } });
    expect(f.decide('Version', {})).toHaveLength(1);
    expect(f.decide('Version', {})).toHaveLength(0);
    remove();
    expect(f.size).toBe(0);
  });

  it('rejects malformed rules naming the field', () => {
    expect(() => new FaultInjector([{ effect: { type: 'error', code: 'NOPE' as 'UNKNOWN' } }])).toThrow(/unknown gRPC status code "NOPE"/);
    expect(() => faultRulesFromJson('[{"nth": 0, "effect": {"type": "hang"}}]')).toThrow(/faults\[0\]: nth must be positive/);
    expect(() => faultRulesFromJson('{}')).toThrow(/JSON array/);
    const [rule] = faultRulesFromJson('[{"method": {"regexp": "^Stop"}, "effect": {"type": "restart", "keepState": true}}]');
    expect(rule?.method).toBeInstanceOf(RegExp);
  });
});
