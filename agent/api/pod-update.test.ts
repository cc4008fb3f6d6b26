import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { needToReconcilePodReadiness, podUpdateKind, sameValue } from './pod-update.js';

function pod(extra: Partial<V1Pod> = {}): V1Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '5', labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Pending' },
    ...extra,
  };
}

describe('podUpdateKind', () => {
  it('treats a change of the status alone as a reconcile (the kubelet owns the status)', () => {
    const next = pod({ metadata: { ...pod().metadata, resourceVersion: '6' }, status: { phase: 'Running', podIP: '10.0.0.1' } });
    expect(podUpdateKind(pod(), next)).toBe('reconcile');
  });

  it('syncs on a change of the spec, labels, annotations, deletion or generation', () => {
    const base = pod();
    const changes: V1Pod[] = [
      pod({ spec: { containers: [{ name: 'app', image: 'busybox:2' }] } }),
      pod({ metadata: { ...base.metadata, labels: { app: 'db' } } }),
      pod({ metadata: { ...base.metadata, annotations: { a: 'b' } } }),
      pod({ metadata: { ...base.metadata, deletionTimestamp: new Date(0), deletionGracePeriodSeconds: 30 } }),
      pod({ metadata: { ...base.metadata, deletionGracePeriodSeconds: 0 } }),
      pod({ metadata: { ...base.metadata, generation: 2 } }),
    ];
    for (const next of changes) expect(podUpdateKind(base, next)).toBe('update');
  });

  it('compares a listed object (Date times, undefined keys) with its watched JSON by meaning', () => {
    const listed = pod({
      metadata: { ...pod().metadata, deletionTimestamp: new Date('2026-01-02T03:04:05Z'), annotations: undefined },
      spec: { containers: [{ name: 'app', image: 'busybox', command: undefined }] },
    });
    const watched = JSON.parse(JSON.stringify(listed)) as V1Pod;
    expect(typeof watched.metadata?.deletionTimestamp).toBe('string');
    expect(podUpdateKind(listed, watched)).toBe('reconcile');
  });

  it('syncs a pod with readiness gates whose Ready condition disagrees with its gate conditions', () => {
    const gated = (gate: 'True' | 'False', ready: 'True' | 'False'): V1Pod =>
      pod({
        spec: { containers: [{ name: 'app', image: 'busybox' }], readinessGates: [{ conditionType: 'example.com/lb' }] },
        status: {
          phase: 'Running',
          containerStatuses: [{ name: 'app', image: 'busybox', imageID: '', ready: true, restartCount: 0, state: { running: {} } }],
          conditions: [
            { type: 'example.com/lb', status: gate },
            { type: 'ContainersReady', status: 'True' },
            ready === 'True'
              ? { type: 'Ready', status: 'True' }
              : { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady', message: 'the status of pod readiness gate "example.com/lb" is not "True", but False' },
          ],
        },
      });
    expect(needToReconcilePodReadiness(gated('True', 'False'))).toBe(true);
    expect(podUpdateKind(gated('False', 'False'), gated('True', 'False'))).toBe('update');
    expect(needToReconcilePodReadiness(gated('False', 'False'))).toBe(false);
    expect(needToReconcilePodReadiness(gated('True', 'True'))).toBe(false);
  });
});

describe('sameValue', () => {
  it('ignores key order and undefined keys but not values, array order or types', () => {
    expect(sameValue({ a: 1, b: [1, 2], c: undefined }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameValue({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValue({ a: 1 }, { a: '1' })).toBe(false);
    expect(sameValue({ a: null }, {})).toBe(false);
    expect(sameValue([], {})).toBe(false);
    expect(sameValue(new Date(1000), '1970-01-01T00:00:01Z')).toBe(true);
    expect(sameValue(new Date(1000), 'not a time')).toBe(false);
  });
});
