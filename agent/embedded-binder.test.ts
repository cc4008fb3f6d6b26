import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from '../fakes/apiserver/server.js';
import { VirtualClock } from './clock/virtual-clock.js';
import { kubeClientsFromString } from './api/kube-client.js';
import { bindPodsToNode } from './embedded-binder.js';

let api: MockApiServer | undefined;
let unbind: (() => void) | undefined;
afterEach(async () => {
  unbind?.();
  await api?.close();
  api = undefined;
  unbind = undefined;
});

function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return { metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'registry.local/app:1.0' }], ...spec } };
}

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the embedded binder', () => {
  it('binds unscheduled pods, existing and new, to the node through pods/binding with PodScheduled=True from the server clock', async () => {
    const clock = new VirtualClock();
    api = await startMockApiServer({ clock });
    const { core } = kubeClientsFromString(api.kubeconfig());
    await core.createNamespacedPod({ namespace: 'default', body: pod('before') });
    unbind = bindPodsToNode(api, 'node-a');
    await core.createNamespacedPod({ namespace: 'default', body: pod('after') });
    for (const name of ['before', 'after']) {
      const bound = await eventually(async () => {
        const p = await core.readNamespacedPod({ name, namespace: 'default' });
        return p.spec?.nodeName ? p : undefined;
      });
      expect(bound.spec?.nodeName).toBe('node-a');
      const scheduled = bound.status?.conditions?.filter((c) => c.type === 'PodScheduled') ?? [];
      expect(scheduled).toHaveLength(1);
      expect(scheduled[0]?.status).toBe('True');
      expect(new Date(scheduled[0]!.lastTransitionTime!).getTime()).toBe(Math.floor(clock.now() / 1000) * 1000);
    }
  });

  it('leaves pods of another scheduler and pods already on a node alone, and stops when unsubscribed', async () => {
    api = await startMockApiServer();
    const { core } = kubeClientsFromString(api.kubeconfig());
    unbind = bindPodsToNode(api, 'node-a');
    await core.createNamespacedPod({ namespace: 'default', body: pod('custom', { schedulerName: 'my-scheduler' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('pinned', { nodeName: 'node-b' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('marker') });
    await eventually(async () => ((await core.readNamespacedPod({ name: 'marker', namespace: 'default' })).spec?.nodeName ? true : undefined));
    expect((await core.readNamespacedPod({ name: 'custom', namespace: 'default' })).spec?.nodeName).toBeUndefined();
    const pinned = await core.readNamespacedPod({ name: 'pinned', namespace: 'default' });
    expect(pinned.spec?.nodeName).toBe('node-b');
    expect(pinned.status?.conditions?.some((c) => c.type === 'PodScheduled') ?? false).toBe(false);
    unbind();
    unbind = undefined;
    await core.createNamespacedPod({ namespace: 'default', body: pod('late') });
    await new Promise((r) => setTimeout(r, 50));
    expect((await core.readNamespacedPod({ name: 'late', namespace: 'default' })).spec?.nodeName).toBeUndefined();
  });
});
