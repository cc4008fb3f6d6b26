import { describe, expect, it } from 'vitest';
import { applyPatch, jsonPatch, mergePatch, strategicMerge } from './patch.js';
import { ApiError } from './status.js';

const pod = {
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
  spec: {
    containers: [
      { name: 'app', image: 'app:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
      { name: 'side', image: 'side:1' },
    ],
    tolerations: [{ key: 't1' }],
  },
  status: {
    conditions: [
      { type: 'Ready', status: 'False' },
      { type: 'PodScheduled', status: 'True' },
    ],
  },
};

describe('JSON merge patch (RFC 7386)', () => {
  it('merges objects, deletes on null and replaces lists', () => {
    expect(mergePatch(pod, { metadata: { labels: { a: null, c: '3' } }, spec: { tolerations: [] } })).toMatchObject({
      metadata: { labels: { b: '2', c: '3' } },
      spec: { tolerations: [], containers: pod.spec.containers },
    });
  });
});

describe('strategic merge patch', () => {
  it('merges containers by name and their env by name, ports by containerPort', () => {
    const out = strategicMerge(pod, { spec: { containers: [{ name: 'app', image: 'app:2', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] }] } }, '');
    expect(out['spec']).toMatchObject({
      containers: [
        { name: 'app', image: 'app:2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] },
        { name: 'side', image: 'side:1' },
      ],
    });
  });

  it('merges status conditions by type and honours $setElementOrder', () => {
    const out = strategicMerge(pod, {
      status: {
        '$setElementOrder/conditions': [{ type: 'PodScheduled' }, { type: 'Ready' }, { type: 'Initialized' }],
        conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }],
      },
    }, '');
    expect((out['status'] as { conditions: unknown[] }).conditions).toEqual([
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'True' },
      { type: 'Initialized', status: 'True' },
    ]);
  });

  it('deletes list items with $patch: delete, replaces atomic lists and merges finalizers as a set', () => {
    const out = strategicMerge(pod, {
      metadata: { finalizers: ['y', 'x'], '$deleteFromPrimitiveList/finalizers': ['x'] },
      spec: { containers: [{ name: 'side', $patch: 'delete' }], tolerations: [{ key: 't2' }] },
    }, '');
    expect(out['metadata']).toMatchObject({ finalizers: ['y'] });
    expect(out['spec']).toMatchObject({ containers: [{ name: 'app' }], tolerations: [{ key: 't2' }] });
    expect((out['spec'] as { containers: unknown[] }).containers).toHaveLength(1);
  });

  it('replaces a map with $patch: replace and rejects list items without their merge key', () => {
    expect(strategicMerge(pod, { metadata: { labels: { $patch: 'replace', z: '9' } } }, '')['metadata']).toMatchObject({ labels: { z: '9' } });
    expect(() => strategicMerge(pod, { spec: { containers: [{ image: 'x' }] } }, '')).toThrow(ApiError);
  });
});

describe('JSON patch (RFC 6902)', () => {
  it('applies add, remove, replace, move, copy and test in order', () => {
    const out = jsonPatch(pod, [
      { op: 'test', path: '/metadata/name', value: 'p' },
      { op: 'add', path: '/metadata/labels/c~1d', value: '3' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'app:3' },
      { op: 'copy', from: '/metadata/labels/b', path: '/metadata/annotations' },
      { op: 'move', from: '/spec/tolerations/0', path: '/spec/tolerations/-' },
      { op: 'add', path: '/spec/containers/1', value: { name: 'mid', image: 'mid:1' } },
    ]);
    expect(out['metadata']).toMatchObject({ labels: { b: '2', 'c/d': '3' }, annotations: '2' });
    expect((out['spec'] as { containers: Array<{ name: string; image: string }> }).containers.map((c) => `${c.name}=${c.image}`)).toEqual(['app=app:3', 'mid=mid:1', 'side=side:1']);
    expect(pod.metadata.labels).toEqual({ a: '1', b: '2' });
  });

  it('fails as a whole with 422 when an operation does not apply, and 400 when it is malformed', () => {
    const failing = (): unknown => jsonPatch(pod, [{ op: 'add', path: '/metadata/labels/z', value: 'z' }, { op: 'test', path: '/metadata/name', value: 'q' }]);
    expect(failing).toThrow(expect.objectContaining({ code: 422 }));
    expect(() => applyPatch('json', pod, [{ op: 'frobnicate', path: '/x' }])).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => applyPatch('json', pod, [{ op: 'add', path: '/spec/containers/9', value: {} }])).toThrow(expect.objectContaining({ code: 422 }));
    expect(pod.metadata.labels).toEqual({ a: '1', b: '2' });
  });
});
