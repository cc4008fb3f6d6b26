import { CoordinationV1Api, CoreV1Api, KubeConfig, makeInformer, PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InformerProbe } from './informer-probe.js';
import { startMockApiServer, type MockApiServer } from './server.js';

function pod(name: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return { metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.local/app:1.0' }], ...extra } };
}

async function eventually(check: () => void, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function storePods(server: MockApiServer): Map<string, string> {
  return new Map(server.store.list('pods').map((s) => [`${s.namespace}/${s.name}`, s.object.metadata.resourceVersion ?? '']));
}

let server: MockApiServer;
let kc: KubeConfig;
let core: CoreV1Api;

beforeEach(async () => {
  server = await startMockApiServer();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await server.close();
});

describe('client-node CoreV1Api against the mock API server', () => {
  it('creates, reads, lists, patches, updates and deletes pods, nodes, leases and events', async () => {
    const created = await core.createNamespacedPod({ namespace: 'default', body: pod('web-1') });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.status?.phase).toBe('Pending');
    expect(created.status?.qosClass).toBe('BestEffort');
    expect(created.spec?.restartPolicy).toBe('Always');
    expect(created.spec?.containers[0]?.imagePullPolicy).toBe('IfNotPresent');

    const read = await core.readNamespacedPod({ name: 'web-1', namespace: 'default' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    const node = await core.createNode({ body: { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } } } });
    const withStatus = await core.patchNodeStatus(
      {
        name: 'node-a',
        body: {
          status: {
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ok' }],
            capacity: { cpu: '4', pods: '110' },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(withStatus.status?.conditions?.[0]?.type).toBe('Ready');
    expect(withStatus.status?.allocatable?.['cpu']).toBe('4');
    expect(Number(withStatus.metadata?.resourceVersion)).toBeGreaterThan(Number(node.metadata?.resourceVersion));

    const bound = await core.patchNamespacedPod({
      name: 'web-1',
      namespace: 'default',
      body: [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }],
    });
    expect(bound.metadata?.labels).toEqual({ app: 'web', tier: 'front' });

    const stale = { ...bound, metadata: { ...bound.metadata, resourceVersion: created.metadata?.resourceVersion } };
    await expect(core.replaceNamespacedPod({ name: 'web-1', namespace: 'default', body: stale })).rejects.toMatchObject({ code: 409 });

    const coordination = kc.makeApiClient(CoordinationV1Api);
    const lease = await coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: 'node-a' }, spec: { holderIdentity: 'node-a', leaseDurationSeconds: 40 } },
    });
    const renewed = await coordination.replaceNamespacedLease({
      name: 'node-a',
      namespace: 'kube-node-lease',
      body: { ...lease, spec: { ...lease.spec, renewTime: new Date() } },
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(lease.metadata?.resourceVersion));

    await core.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: 'web-1.1' },
        involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: created.metadata?.uid ?? '' },
        reason: 'Scheduled',
        message: 'assigned',
        type: 'Normal',
      },
    });
    const events = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web-1' });
    expect(events.items.map((e) => e.reason)).toEqual(['Scheduled']);

    const list = await core.listPodForAllNamespaces({ labelSelector: 'app=web' });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(['web-1']);

    await core.deleteNamespacedPod({ name: 'web-1', namespace: 'default' });
    await expect(core.readNamespacedPod({ name: 'web-1', namespace: 'default' })).rejects.toMatchObject({ code: 404 });
  });
});

describe('client-node informer against the mock API server', () => {
  const listPods = (): Promise<{ items: V1Pod[]; metadata?: { resourceVersion?: string } }> => core.listPodForAllNamespaces();

  it('works as makeInformer builds it, with a label selector, for nodes', async () => {
    await core.createNode({ body: { metadata: { name: 'n1', labels: { pool: 'a' } } } });
    await core.createNode({ body: { metadata: { name: 'n2', labels: { pool: 'b' } } } });
    const informer = makeInformer<V1Node>(kc, '/api/v1/nodes', () => core.listNode({ labelSelector: 'pool=a' }), 'pool=a');
    const seen: string[] = [];
    informer.on('add', (n) => seen.push(`add ${n.metadata?.name ?? ''}`));
    informer.on('update', (n) => seen.push(`update ${n.metadata?.name ?? ''} ${n.metadata?.labels?.['pool'] ?? ''}`));
    informer.on('delete', (n) => seen.push(`delete ${n.metadata?.name ?? ''}`));
    await informer.start();
    await eventually(() => expect(server.watchCount('nodes')).toBe(1));
    await core.patchNode({ name: 'n2', body: { metadata: { labels: { pool: 'a' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.patchNode({ name: 'n1', body: { metadata: { labels: { zone: 'z1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.patchNode({ name: 'n1', body: { metadata: { labels: { pool: 'c' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await eventually(() => expect(seen).toEqual(['add n1', 'add n2', 'update n1 a', 'delete n1']));
    expect(informer.list().map((n) => n.metadata?.name)).toEqual(['n2']);
    await informer.stop();
  });

  it('fills its cache from list+watch and follows creates, updates and deletes', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('before') });
    const probe = new InformerProbe<V1Pod>(kc, '/api/v1/pods', listPods);
    await probe.start();
    await eventually(() => expect(server.watchCount('pods')).toBe(1));
    await core.createNamespacedPod({ namespace: 'default', body: pod('after') });
    await core.patchNamespacedPod({ name: 'before', namespace: 'default', body: [{ op: 'add', path: '/metadata/labels/x', value: 'y' }] });
    await core.deleteNamespacedPod({ name: 'after', namespace: 'default', gracePeriodSeconds: 0 });
    await eventually(() => expect(probe.cache()).toEqual(storePods(server)));
    expect(probe.duplicates()).toEqual([]);
    expect(probe.outOfOrder()).toEqual([]);
    expect(probe.lists).toBe(1);
    await probe.stop();
  });

  it('resumes from its last resourceVersion after the server closes the watch, missing nothing and relisting never', async () => {
    const probe = new InformerProbe<V1Pod>(kc, '/api/v1/pods', listPods);
    await probe.start();
    await eventually(() => expect(server.watchCount('pods')).toBe(1));
    // Slow the reconnect down so writes land while no watch is open.
    const slow = server.faults.add({ watch: true, latencyMs: 150 });
    expect(server.faults.closeWatches('pods')).toBe(1);
    for (let i = 0; i < 5; i++) await core.createNamespacedPod({ namespace: 'default', body: pod(`gap-${i}`) });
    await eventually(() => expect(probe.cache()).toEqual(storePods(server)));
    slow();
    expect(probe.lists).toBe(1);
    expect(probe.connections.length).toBe(2);
    expect(Number(probe.connections[1]?.resourceVersion)).toBeGreaterThan(0);
    expect(probe.duplicates()).toEqual([]);
    await probe.stop();
  });

  it('relists after a 410 when its resourceVersion fell out of the window, and converges', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('old') });
    const probe = new InformerProbe<V1Pod>(kc, '/api/v1/pods', listPods);
    await probe.start();
    await eventually(() => expect(server.watchCount('pods')).toBe(1));
    const slow = server.faults.add({ watch: true, latencyMs: 150 });
    server.faults.closeWatches('pods');
    await core.deleteNamespacedPod({ name: 'old', namespace: 'default', gracePeriodSeconds: 0 });
    await core.createNamespacedPod({ namespace: 'default', body: pod('new') });
    server.faults.compactHistory();
    await eventually(() => expect(probe.cache()).toEqual(storePods(server)));
    slow();
    expect(probe.lists).toBe(2);
    expect(probe.events.some((e) => e.type === 'ERROR')).toBe(true);
    await probe.stop();
  });

  it('relists after an ERROR 410 on a live watch and after a dropped connection restarts it', async () => {
    const probe = new InformerProbe<V1Pod>(kc, '/api/v1/pods', listPods);
    await probe.start();
    await eventually(() => expect(server.watchCount('pods')).toBe(1));
    expect(server.faults.expireWatches('pods')).toBe(1);
    await eventually(() => expect(probe.lists).toBe(2));
    await eventually(() => expect(server.watchCount('pods')).toBe(1));
    await core.createNamespacedPod({ namespace: 'default', body: pod('a') });
    expect(server.faults.dropWatches('pods')).toBe(1);
    await core.createNamespacedPod({ namespace: 'default', body: pod('b') });
    await eventually(() => expect(probe.errors.length).toBeGreaterThan(0));
    await eventually(() => expect(probe.cache()).toEqual(storePods(server)));
    expect(probe.duplicates()).toEqual([]);
    await probe.stop();
  });
});

describe('pods/binding', () => {
  it('assigns an unscheduled pod to a node once, as a scheduler does', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('unbound') });
    await core.createNamespacedBinding({
      namespace: 'default',
      body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-a' } },
    });
    const bound = await core.readNamespacedPod({ name: 'unbound', namespace: 'default' });
    expect(bound.spec?.nodeName).toBe('node-a');
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
    await expect(
      core.createNamespacedBinding({ namespace: 'default', body: { metadata: { name: 'unbound' }, target: { kind: 'Node', name: 'node-b' } } }),
    ).rejects.toMatchObject({ code: 409 });
    await core.createNamespacedPod({ namespace: 'default', body: pod('via-subresource') });
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/via-subresource/binding`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'via-subresource' }, target: { kind: 'Node', name: 'node-b' } }),
    });
    expect(res.status).toBe(201);
    expect((server.store.get('pods', 'default', 'via-subresource')?.object['spec'] as { nodeName?: string }).nodeName).toBe('node-b');
  });
});
