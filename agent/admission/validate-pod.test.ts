import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { validatePodForKubelet } from './validate-pod.js';

function pod(spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod {
  return { metadata: { name: 'web', namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'busybox' }], ...spec } };
}

describe('validatePodForKubelet: hostname and subdomain', () => {
  it('accepts a pod without them, or with DNS-1123 labels', () => {
    expect(validatePodForKubelet(pod({}))).toBeUndefined();
    expect(validatePodForKubelet(pod({ hostname: 'web-0', subdomain: 'headless' }))).toBeUndefined();
    expect(validatePodForKubelet(pod({ hostname: '' }))).toBeUndefined();
  });

  it('rejects a hostname that is not a DNS-1123 label, naming spec.hostname', () => {
    expect(validatePodForKubelet(pod({ hostname: 'Web_0' }))).toMatch(/^spec\.hostname: Invalid value: "Web_0": a lowercase RFC 1123 label must consist of/);
    expect(validatePodForKubelet(pod({ hostname: 'h'.repeat(64) }))).toBe(`spec.hostname: Invalid value: "${'h'.repeat(64)}": must be no more than 63 characters`);
  });

  it('rejects a subdomain that is not a DNS-1123 label, naming spec.subdomain', () => {
    expect(validatePodForKubelet(pod({ subdomain: 'svc.cluster' }))).toBe('spec.subdomain: Invalid value: "svc.cluster": must not contain dots');
  });

  it('rejects a hostname of the wrong type from a hand-written manifest without throwing', () => {
    const p = pod({});
    (p.spec as unknown as Record<string, unknown>)['hostname'] = 42;
    expect(validatePodForKubelet(p)).toBe('spec.hostname: Invalid value: 42: must be a string');
  });
});
