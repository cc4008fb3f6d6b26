import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { killGracePeriodSeconds, stopContainerTimeoutSeconds } from './kill-grace-period.js';

const pod = (spec: { terminationGracePeriodSeconds?: number }, deletionGracePeriodSeconds?: number): V1Pod => ({
  metadata: deletionGracePeriodSeconds === undefined ? {} : { deletionGracePeriodSeconds },
  spec: { containers: [], ...spec },
});

describe('killGracePeriodSeconds', () => {
  it('uses the pod grace period, 30 s when unset', () => {
    expect(killGracePeriodSeconds(pod({}), 'Other')).toBe(30);
    expect(killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: 45 }), 'Other')).toBe(45);
  });

  it('lets a probe grace period win for its own probe kills, even above the pod one', () => {
    const p = pod({ terminationGracePeriodSeconds: 10 });
    expect(killGracePeriodSeconds(p, 'LivenessProbe', { terminationGracePeriodSeconds: 60 })).toBe(60);
    expect(killGracePeriodSeconds(p, 'StartupProbe', { terminationGracePeriodSeconds: 3 })).toBe(3);
    expect(killGracePeriodSeconds(p, 'Other', { terminationGracePeriodSeconds: 3 })).toBe(10);
    expect(killGracePeriodSeconds(p, 'LivenessProbe', {})).toBe(10);
  });

  it('prefers the deletion grace period over probe and pod values', () => {
    expect(killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: 10 }, 4), 'LivenessProbe', { terminationGracePeriodSeconds: 60 })).toBe(4);
    expect(killGracePeriodSeconds(pod({}, 0), 'Other')).toBe(0);
  });

  it('applies eviction overrides: hard 1 s, soft capped by the pod grace period', () => {
    expect(killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: 90 }, 20), { eviction: 'hard' })).toBe(1);
    expect(killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: 90 }), { eviction: 'soft', maxPodGracePeriodSeconds: 60 })).toBe(60);
    expect(killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: 15 }), { eviction: 'soft', maxPodGracePeriodSeconds: 60 })).toBe(15);
    expect(killGracePeriodSeconds(pod({}), { eviction: 'soft', maxPodGracePeriodSeconds: 0 })).toBe(0);
  });

  it('names the field of a negative grace period', () => {
    expect(() => killGracePeriodSeconds(pod({ terminationGracePeriodSeconds: -5 }), 'Other')).toThrow('spec.terminationGracePeriodSeconds: must be >= 0');
    expect(() => killGracePeriodSeconds(pod({}), 'LivenessProbe', { terminationGracePeriodSeconds: 0 })).toThrow('probe.terminationGracePeriodSeconds: must be >= 1');
  });
});

describe('stopContainerTimeoutSeconds', () => {
  it('subtracts whole preStop seconds and floors at 2 s', () => {
    expect(stopContainerTimeoutSeconds(30, 7.9)).toBe(23);
    expect(stopContainerTimeoutSeconds(30, 29)).toBe(2);
    expect(stopContainerTimeoutSeconds(1)).toBe(2);
  });
});
