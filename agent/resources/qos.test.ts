import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { defaultPodRequests } from './api-defaults.js';
import { QuantityFieldError } from './quantity.js';
import { computePodQOS, podQOSClass, type QOSClass } from './qos.js';

/** Upstream test helper getResourceList: empty strings mean "not set". */
function list(cpu: string, memory: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (cpu !== '') out.cpu = cpu;
  if (memory !== '') out.memory = memory;
  return out;
}

function container(name: string, requests: Record<string, string>, limits: Record<string, string>): V1Container {
  return { name, resources: { requests, limits } };
}

function pod(containers: V1Container[], extra: { initContainers?: V1Container[]; resources?: V1ResourceRequirements } = {}): V1Pod {
  return { metadata: { name: 'p' }, spec: { containers, ...extra } };
}

interface Row {
  name: string;
  pod: V1Pod;
  expected: QOSClass;
  podLevelResources?: boolean;
}

// Rows of pkg/apis/core/v1/helper/qos TestComputePodQOS.
const TABLE: Row[] = [
  { name: 'guaranteed', pod: pod([container('g', list('100m', '100Mi'), list('100m', '100Mi'))]), expected: 'Guaranteed' },
  {
    name: 'guaranteed-guaranteed',
    pod: pod([container('g', list('100m', '100Mi'), list('100m', '100Mi')), container('g', list('100m', '100Mi'), list('100m', '100Mi'))]),
    expected: 'Guaranteed',
  },
  { name: 'best-effort-best-effort', pod: pod([container('b', list('', ''), list('', '')), container('b', list('', ''), list('', ''))]), expected: 'BestEffort' },
  { name: 'best-effort', pod: pod([container('b', list('', ''), list('', ''))]), expected: 'BestEffort' },
  {
    name: 'best-effort-burstable',
    pod: pod([container('b', list('', ''), list('', '')), container('u', list('1', ''), list('2', ''))]),
    expected: 'Burstable',
  },
  {
    name: 'best-effort-guaranteed',
    pod: pod([container('b', list('', ''), list('', '')), container('g', list('10m', '100Mi'), list('10m', '100Mi'))]),
    expected: 'Burstable',
  },
  { name: 'burstable-cpu-guaranteed-memory', pod: pod([container('u', list('', '100Mi'), list('', '100Mi'))]), expected: 'Burstable' },
  { name: 'burstable-no-limits', pod: pod([container('u', list('100m', '100Mi'), list('', ''))]), expected: 'Burstable' },
  {
    name: 'burstable-guaranteed',
    pod: pod([container('u', list('1', '100Mi'), list('2', '100Mi')), container('g', list('100m', '100Mi'), list('100m', '100Mi'))]),
    expected: 'Burstable',
  },
  {
    name: 'burstable-unbounded-but-requests-match-limits',
    pod: pod([container('u', list('100m', '100Mi'), list('200m', '200Mi')), container('u2', list('100m', '100Mi'), list('', ''))]),
    expected: 'Burstable',
  },
  { name: 'burstable-1', pod: pod([container('u', list('10m', '100Mi'), list('100m', '200Mi'))]), expected: 'Burstable' },
  { name: 'burstable-2', pod: pod([container('u', list('0', '0'), list('100m', '200Mi'))]), expected: 'Burstable' },
  {
    name: 'best-effort-hugepages',
    pod: pod([container('b', { ...list('0', '0'), 'hugepages-2Mi': '1Gi' }, { ...list('0', '0'), 'hugepages-2Mi': '1Gi' })]),
    expected: 'BestEffort',
  },
  {
    name: 'init-container',
    pod: pod([container('b', list('', ''), list('', ''))], { initContainers: [container('u', list('10m', '100Mi'), list('100m', '200Mi'))] }),
    expected: 'Burstable',
  },
  {
    name: 'guaranteed-with-pod-level-resources',
    pod: pod([container('b', list('', ''), list('', ''))], { resources: { requests: list('10m', '100Mi'), limits: list('10m', '100Mi') } }),
    expected: 'Guaranteed',
    podLevelResources: true,
  },
  {
    name: 'guaranteed-with-pod-and-container-level-resources',
    pod: pod([container('u', list('3m', '10Mi'), list('5m', '20Mi'))], { resources: { requests: list('10m', '100Mi'), limits: list('10m', '100Mi') } }),
    expected: 'Guaranteed',
    podLevelResources: true,
  },
  {
    name: 'burstable-with-pod-level-resources',
    pod: pod([container('b', list('', ''), list('', ''))], { resources: { requests: list('10m', '10Mi'), limits: list('20m', '50Mi') } }),
    expected: 'Burstable',
    podLevelResources: true,
  },
  {
    name: 'burstable-with-pod-and-container-level-resources',
    pod: pod([container('g', list('5m', '10Mi'), list('5m', '10Mi'))], { resources: { requests: list('10m', '10Mi'), limits: list('20m', '50Mi') } }),
    expected: 'Burstable',
    podLevelResources: true,
  },
  {
    name: 'burstable-with-pod-and-container-level-requests',
    pod: pod([container('u', list('5m', '10Mi'), list('', ''))], { resources: { requests: list('10m', '10Mi'), limits: list('', '') } }),
    expected: 'Burstable',
    podLevelResources: true,
  },
  {
    name: 'burstable-with-pod-and-container-level-resources-2',
    pod: pod([container('u', list('5m', '10Mi'), list('', '')), container('g', list('5m', '10Mi'), list('5m', '10Mi'))], {
      resources: { requests: list('10m', '10Mi'), limits: list('5m', '') },
    }),
    expected: 'Burstable',
    podLevelResources: true,
  },
];

describe('podQOSClass (upstream TestComputePodQOS table)', () => {
  for (const row of TABLE) {
    it(`classifies ${row.name} as ${row.expected}`, () => {
      expect(podQOSClass(row.pod, { featureGates: { PodLevelResources: row.podLevelResources ?? false } })).toBe(row.expected);
    });
  }
});

describe('podQOSClass details', () => {
  const guaranteed = container('g', list('1', '1Gi'), list('1', '1Gi'));

  it('ignores pod-level resources when the PodLevelResources gate is off', () => {
    const p = pod([guaranteed], { resources: { requests: list('10m', '10Mi'), limits: list('20m', '50Mi') } });
    expect(podQOSClass(p, { featureGates: { PodLevelResources: false } })).toBe('Guaranteed');
    expect(podQOSClass(p, { featureGates: { PodLevelResources: true } })).toBe('Burstable');
    expect(podQOSClass(p)).toBe('Burstable');
  });

  it('compares quantities by value across suffixes', () => {
    expect(podQOSClass(pod([container('g', list('1', '1Gi'), list('1000m', '1024Mi'))]))).toBe('Guaranteed');
    expect(podQOSClass(pod([container('u', list('1', '1G'), list('1', '1Gi'))]))).toBe('Burstable');
  });

  it('treats limits without requests as Burstable on the raw spec and Guaranteed after API defaulting', () => {
    const raw = pod([container('l', {}, list('1', '1Gi'))]);
    expect(podQOSClass(raw)).toBe('Burstable');
    expect(podQOSClass(defaultPodRequests(raw))).toBe('Guaranteed');
  });

  it('returns status.qosClass when the API server recorded one', () => {
    const p: V1Pod = { ...pod([container('b', {}, {})]), status: { qosClass: 'Guaranteed' } };
    expect(podQOSClass(p)).toBe('Guaranteed');
    expect(computePodQOS(p)).toBe('BestEffort');
  });

  it('counts a restartable sidecar init container like any other container', () => {
    const sidecar: V1Container = { ...container('s', list('', ''), list('', '')), restartPolicy: 'Always' };
    expect(podQOSClass(pod([guaranteed], { initContainers: [sidecar] }))).toBe('Burstable');
  });

  it('names the field of an invalid quantity', () => {
    const bad = pod([container('a', {}, {}), container('b', { cpu: '1x' }, {})]);
    expect(() => podQOSClass(bad)).toThrow(QuantityFieldError);
    expect(() => podQOSClass(bad)).toThrow(/spec\.containers\[1\]\.resources\.requests\.cpu: /);
  });
});
