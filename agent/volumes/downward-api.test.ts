import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { downwardAPIPayload, formatMap, resourceFieldRefValue } from './downward-api.js';
import { projectedPayload } from './projected.js';

const pod: V1Pod = {
  metadata: { name: 'web', namespace: 'prod', uid: 'u-1', labels: { tier: 'front', app: 'web' }, annotations: { note: 'say "hi"\n' } },
  spec: {
    containers: [
      { name: 'c', image: 'x', resources: { limits: { cpu: '500m', memory: '64Mi' }, requests: { cpu: '250m' } } },
      { name: 'nolimits', image: 'x' },
    ],
  },
};

const text = (p: Map<string, { data: Buffer; mode: number }>): Record<string, string> =>
  Object.fromEntries([...p].map(([k, v]) => [k, v.data.toString('utf8')]));

describe('downward API volumes', () => {
  it('writes metadata fields, labels and annotations in kubelet\'s k="v" format', () => {
    const payload = downwardAPIPayload(
      pod,
      [
        { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
        { path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } },
        { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } },
        { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
        { path: 'annotations', fieldRef: { fieldPath: 'metadata.annotations' } },
        { path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } },
      ],
      undefined,
      'spec.volumes[0].downwardAPI',
    );
    expect(text(payload)).toEqual({
      name: 'web',
      ns: 'prod',
      uid: 'u-1',
      labels: 'app="web"\ntier="front"',
      annotations: 'note="say \\"hi\\"\\n"',
      tier: 'front',
    });
    expect(formatMap({})).toBe('');
  });

  it('divides resources by the divisor rounding up, and falls back to node allocatable for unset limits', () => {
    const at = 'f';
    expect(resourceFieldRefValue(pod, { containerName: 'c', resource: 'limits.cpu' }, at, undefined)).toBe('1');
    expect(resourceFieldRefValue(pod, { containerName: 'c', resource: 'limits.cpu', divisor: '1m' }, at, undefined)).toBe('500');
    expect(resourceFieldRefValue(pod, { containerName: 'c', resource: 'requests.cpu', divisor: '100m' }, at, undefined)).toBe('3');
    expect(resourceFieldRefValue(pod, { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' }, at, undefined)).toBe('64');
    expect(resourceFieldRefValue(pod, { containerName: 'c', resource: 'requests.memory' }, at, undefined)).toBe('0');
    expect(resourceFieldRefValue(pod, { containerName: 'nolimits', resource: 'limits.memory' }, at, { memory: '2Gi' })).toBe(String(2 * 2 ** 30));
    expect(() => resourceFieldRefValue(pod, { containerName: 'nolimits', resource: 'limits.cpu' }, at, undefined)).toThrow("the node's allocatable cpu is unknown");
    expect(() => resourceFieldRefValue(pod, { containerName: 'ghost', resource: 'limits.cpu' }, at, undefined)).toThrow('container "ghost" not found');
  });

  it('refuses fields volumes cannot carry, naming the item', () => {
    expect(() => downwardAPIPayload(pod, [{ path: 'ip', fieldRef: { fieldPath: 'status.podIP' } }], undefined, 'spec.volumes[0].downwardAPI')).toThrow(
      expect.objectContaining({ field: 'spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath' }),
    );
  });
});

describe('projected volumes', () => {
  it('merges configMap, secret and downward API sources with the volume default mode', () => {
    const payload = projectedPayload(
      pod,
      {
        defaultMode: 0o440,
        sources: [
          { configMap: { name: 'cfg', items: [{ key: 'a', path: 'config/a' }] } },
          { secret: { name: 'sec' } },
          { downwardAPI: { items: [{ path: 'podname', fieldRef: { fieldPath: 'metadata.name' } }] } },
        ],
      },
      {
        configMaps: new Map([['cfg', { data: { a: 'A', b: 'B' } }]]),
        secrets: new Map([['sec', { data: { token: Buffer.from('T').toString('base64') } }]]),
      },
      'spec.volumes[0].projected',
    );
    expect(text(payload)).toEqual({ 'config/a': 'A', token: 'T', podname: 'web' });
    expect([...payload.values()].every((f) => f.mode === 0o440)).toBe(true);
  });

  it('rejects clashing paths and service account tokens, naming the source', () => {
    const objects = { configMaps: new Map([['cfg', { data: { a: 'A' } }]]), secrets: new Map() };
    expect(() =>
      projectedPayload(pod, { sources: [{ configMap: { name: 'cfg' } }, { downwardAPI: { items: [{ path: 'a', fieldRef: { fieldPath: 'metadata.name' } }] } }] }, objects, 'v'),
    ).toThrow('duplicate path "a"');
    expect(() => projectedPayload(pod, { sources: [{ serviceAccountToken: { path: 'token' } }] }, objects, 'spec.volumes[0].projected')).toThrow(
      expect.objectContaining({ field: 'spec.volumes[0].projected.sources[0].serviceAccountToken' }),
    );
  });
});
