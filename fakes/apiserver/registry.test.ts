import { describe, expect, it } from 'vitest';
import { apiError, testRegistry } from './registry-test-support.js';
import { ObjectStore, TooOldResourceVersion } from './store.js';

function setup(historyLimit?: number) {
  const { clock, store, registry, pods } = testRegistry({ historyLimit });
  const podBody = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
    metadata: { name, ...meta },
    spec: { containers: [{ name: 'c', image: 'img:1.0' }], ...spec },
  });
  return { clock, store, registry, pods, podBody };
}

describe('object store', () => {
  it('hands out one global, strictly increasing resourceVersion across resource types', () => {
    const { registry, pods, podBody } = setup();
    const a = registry.create(pods, 'default', podBody('a'));
    const n = registry.create(registry.type('', 'nodes'), '', { metadata: { name: 'n' } });
    const b = registry.update(pods, 'default', 'a', { ...a.object, metadata: { ...a.object.metadata, labels: { x: 'y' } } });
    expect([a.rv, n.rv, b.rv]).toEqual([a.rv, a.rv + 1, a.rv + 2]);
    expect(b.object.metadata.resourceVersion).toBe(String(b.rv));
  });

  it('keeps a bounded window of changes and refuses to resume from before it', () => {
    const store = new ObjectStore({ historyLimit: 3, initialResourceVersion: 10 });
    for (let i = 0; i < 5; i++) store.create('configmaps', (rv) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}`, namespace: 'd', resourceVersion: String(rv) } }));
    expect(store.changesSince(12).map((c) => c.rv)).toEqual([13, 14, 15]);
    expect(() => store.changesSince(11)).toThrow(TooOldResourceVersion);
    store.compact();
    expect(store.changesSince(15)).toEqual([]);
    expect(() => store.changesSince(14)).toThrow(TooOldResourceVersion);
  });
});

describe('creation', () => {
  it('sets uid, creationTimestamp, generation and pod defaults, and computes QoS after copying limits into requests', () => {
    const { registry, pods, podBody } = setup();
    const pod = registry.create(pods, 'default', podBody('p', {
      containers: [
        { name: 'a', image: 'img', resources: { limits: { cpu: '1', memory: '1Gi' } }, livenessProbe: { httpGet: { port: 8080 } } },
        { name: 'b', image: 'img@sha256:0123', resources: { limits: { cpu: '500m', memory: '256Mi' } } },
      ],
    })).object;
    const spec = pod['spec'] as Record<string, any>;
    expect(pod.metadata).toMatchObject({ generation: 1, creationTimestamp: '2026-11-27T06:00:00Z', namespace: 'default' });
    expect(spec).toMatchObject({ restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', priority: 0 });
    expect(spec['containers'][0]).toMatchObject({
      imagePullPolicy: 'Always',
      terminationMessagePath: '/dev/termination-log',
      resources: { requests: { cpu: '1', memory: '1Gi' } },
      livenessProbe: { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, httpGet: { path: '/', scheme: 'HTTP', port: 8080 } },
    });
    expect(spec['containers'][1].imagePullPolicy).toBe('IfNotPresent');
    expect(pod['status']).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
  });

  it('resolves priorityClassName into spec.priority, including the built-in system classes', () => {
    const { registry, pods, podBody } = setup();
    const critical = registry.create(pods, 'kube-system', podBody('c', { priorityClassName: 'system-node-critical' })).object;
    expect((critical['spec'] as Record<string, unknown>)['priority']).toBe(2_000_001_000);
    registry.create(registry.type('scheduling.k8s.io', 'priorityclasses'), '', { metadata: { name: 'high' }, value: 1000, globalDefault: true });
    const defaulted = registry.create(pods, 'default', podBody('d')).object;
    expect(defaulted['spec']).toMatchObject({ priority: 1000, priorityClassName: 'high' });
    expect(apiError(() => registry.create(registry.type('scheduling.k8s.io', 'priorityclasses'), '', { metadata: { name: 'system-x' }, value: 1 })).code).toBe(403);
  });

  it('replaces a client-supplied status and generates names from generateName', () => {
    const { registry, pods, podBody } = setup();
    const pod = registry.create(pods, 'default', { ...podBody(''), metadata: { generateName: 'web-' }, status: { phase: 'Running' } }).object;
    expect(pod.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect((pod['status'] as Record<string, unknown>)['phase']).toBe('Pending');
  });
});

describe('updates', () => {
  it('ignores status on the main resource and everything but status on /status', () => {
    const { registry, pods, podBody } = setup();
    const created = registry.create(pods, 'default', podBody('p', { nodeName: 'n1' })).object;
    const viaMain = registry.update(pods, 'default', 'p', { ...created, status: { phase: 'Running' }, metadata: { ...created.metadata, labels: { a: 'b' } } }).object;
    expect((viaMain['status'] as Record<string, unknown>)['phase']).toBe('Pending');
    expect(viaMain.metadata.labels).toEqual({ a: 'b' });
    const viaStatus = registry.patch(pods, 'default', 'p', 'merge', { spec: { nodeName: 'other' }, status: { phase: 'Running' } }, 'status').object;
    expect(viaStatus['status']).toMatchObject({ phase: 'Running', qosClass: 'BestEffort' });
    expect((viaStatus['spec'] as Record<string, unknown>)['nodeName']).toBe('n1');
  });

  it('rejects a stale resourceVersion with 409 and leaves no-op writes without a new resourceVersion', () => {
    const { registry, pods, podBody, store } = setup();
    const v1 = registry.create(pods, 'default', podBody('p')).object;
    registry.patch(pods, 'default', 'p', 'merge', { metadata: { labels: { x: '1' } } });
    expect(apiError(() => registry.update(pods, 'default', 'p', v1)).code).toBe(409);
    const rv = store.resourceVersion;
    registry.patch(pods, 'default', 'p', 'strategic', { metadata: { labels: { x: '1' } } });
    expect(store.resourceVersion).toBe(rv);
  });

  it('bumps generation on spec changes only', () => {
    const { registry, pods, podBody } = setup();
    registry.create(pods, 'default', podBody('p'));
    expect(registry.patch(pods, 'default', 'p', 'merge', { metadata: { labels: { a: 'b' } } }).object.metadata.generation).toBe(1);
    expect(registry.patch(pods, 'default', 'p', 'strategic', { spec: { containers: [{ name: 'c', image: 'img:2.0' }] } }).object.metadata.generation).toBe(2);
  });

  it('creates on PUT only for types that allow it (leases yes, pods no)', () => {
    const { registry, pods, podBody } = setup();
    const leases = registry.type('coordination.k8s.io', 'leases');
    expect(registry.update(leases, 'kube-node-lease', 'n1', { metadata: { name: 'n1' }, spec: { holderIdentity: 'n1' } }).object.metadata.uid).toBeTruthy();
    expect(apiError(() => registry.update(pods, 'default', 'p', podBody('p'))).code).toBe(404);
  });
});

describe('deletion', () => {
  it('deletes a scheduled pod gracefully: deletionTimestamp now+grace, kept until deleted with grace 0', () => {
    const { registry, pods, podBody, store } = setup();
    registry.create(pods, 'default', podBody('p', { nodeName: 'n1', terminationGracePeriodSeconds: 45 }));
    const first = registry.delete(pods, 'default', 'p');
    expect(first.deleted).toBe(false);
    expect(first.object.object.metadata).toMatchObject({ deletionTimestamp: '2026-11-27T06:00:45Z', deletionGracePeriodSeconds: 45, generation: 2 });
    const shorter = registry.delete(pods, 'default', 'p', { gracePeriodSeconds: 10 });
    expect(shorter.object.object.metadata.deletionGracePeriodSeconds).toBe(10);
    const longer = registry.delete(pods, 'default', 'p', { gracePeriodSeconds: 60 });
    expect(longer.object.rv).toBe(shorter.object.rv);
    expect(registry.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 }).deleted).toBe(true);
    expect(store.get('pods', 'default', 'p')).toBeUndefined();
  });

  it('deletes unscheduled or finished pods at once', () => {
    const { registry, pods, podBody } = setup();
    registry.create(pods, 'default', podBody('unscheduled'));
    expect(registry.delete(pods, 'default', 'unscheduled').deleted).toBe(true);
    registry.create(pods, 'default', podBody('done', { nodeName: 'n1' }));
    registry.patch(pods, 'default', 'done', 'merge', { status: { phase: 'Succeeded' } }, 'status');
    expect(registry.delete(pods, 'default', 'done').deleted).toBe(true);
  });

  it('keeps an object with finalizers until the last one is removed, and forbids adding new ones', () => {
    const { registry, store } = setup();
    const cms = registry.type('', 'configmaps');
    registry.create(cms, 'default', { metadata: { name: 'c', finalizers: ['a.example/x', 'b.example/y'] } });
    const pending = registry.delete(cms, 'default', 'c');
    expect(pending.deleted).toBe(false);
    expect(pending.object.object.metadata.deletionTimestamp).toBe('2026-11-27T06:00:00Z');
    expect(apiError(() => registry.patch(cms, 'default', 'c', 'merge', { metadata: { finalizers: ['a.example/x', 'b.example/y', 'c.example/z'] } })).code).toBe(422);
    registry.patch(cms, 'default', 'c', 'json', [{ op: 'remove', path: '/metadata/finalizers/0' }]);
    expect(store.get('configmaps', 'default', 'c')).toBeDefined();
    const gone = registry.patch(cms, 'default', 'c', 'merge', { metadata: { finalizers: null } });
    expect(store.get('configmaps', 'default', 'c')).toBeUndefined();
    expect(gone.object.metadata.finalizers).toBeUndefined();
  });

  it('checks uid and resourceVersion preconditions', () => {
    const { registry, pods, podBody } = setup();
    registry.create(pods, 'default', podBody('p'));
    expect(apiError(() => registry.delete(pods, 'default', 'p', { preconditions: { uid: 'other' } })).code).toBe(409);
    expect(apiError(() => registry.delete(pods, 'default', 'p', { preconditions: { resourceVersion: '1' } })).code).toBe(409);
  });

  it('terminates a namespace: content deleted, new content refused, namespace gone once empty', () => {
    const { registry, pods, podBody, store } = setup();
    const ns = registry.type('', 'namespaces');
    registry.create(ns, '', { metadata: { name: 'team' } });
    registry.create(pods, 'team', podBody('running', { nodeName: 'n1' }));
    registry.create(registry.type('', 'configmaps'), 'team', { metadata: { name: 'cfg' } });
    const result = registry.delete(ns, '', 'team');
    expect(result.deleted).toBe(false);
    expect((store.get('namespaces', '', 'team')?.object['status'] as Record<string, unknown>)['phase']).toBe('Terminating');
    expect(store.get('configmaps', 'team', 'cfg')).toBeUndefined();
    expect(apiError(() => registry.create(pods, 'team', podBody('late'))).code).toBe(403);
    registry.delete(pods, 'team', 'running', { gracePeriodSeconds: 0 });
    expect(store.get('namespaces', '', 'team')).toBeUndefined();
  });
});

describe('lists', () => {
  it('filters by label and field selectors', () => {
    const { registry, pods, podBody } = setup();
    registry.create(pods, 'default', podBody('a', { nodeName: 'n1' }, { labels: { app: 'web', tier: 'front' } }));
    registry.create(pods, 'default', podBody('b', { nodeName: 'n2' }, { labels: { app: 'web' } }));
    registry.create(pods, 'kube-system', podBody('c', { nodeName: 'n1' }, { labels: { app: 'dns' } }));
    const names = (opts: Record<string, string>, ns = '') => registry.list(pods, ns, opts).items.map((s) => s.name);
    expect(names({ labelSelector: 'app=web,tier' })).toEqual(['a']);
    expect(names({ labelSelector: 'app in (web,dns),!tier' })).toEqual(['b', 'c']);
    expect(names({ fieldSelector: 'spec.nodeName=n1' })).toEqual(['a', 'c']);
    expect(names({ fieldSelector: 'spec.nodeName=n1,status.phase!=Running,metadata.namespace=default' })).toEqual(['a']);
    expect(names({}, 'kube-system')).toEqual(['c']);
  });

  it('pages with limit/continue over one consistent snapshot', () => {
    const { registry, pods, podBody } = setup();
    for (const n of ['a', 'b', 'c', 'd', 'e']) registry.create(pods, 'default', podBody(n));
    const first = registry.list(pods, 'default', { limit: 2 });
    expect(first.items.map((s) => s.name)).toEqual(['a', 'b']);
    expect(first.remainingItemCount).toBe(3);
    registry.create(pods, 'default', podBody('f'));
    registry.delete(pods, 'default', 'c');
    const second = registry.list(pods, 'default', { limit: 2, continue: first.continue ?? '' });
    const third = registry.list(pods, 'default', { limit: 2, continue: second.continue ?? '' });
    expect([...second.items, ...third.items].map((s) => s.name)).toEqual(['c', 'd', 'e']);
    expect(third.continue).toBeUndefined();
    expect(second.resourceVersion).toBe(first.resourceVersion);
  });
});
