import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';
import { eventually } from '../test-support/eventually.js';

/** The agent on the fakes, fed pods whose hostname or subdomain the API server would have refused. */

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/busybox:1.36', command: ['sleep', '3600'] }], ...spec },
  };
}

describe('pods with an invalid hostname or subdomain on the fakes', () => {
  it('are Failed with a message and a Warning event naming the field, never reach the runtime, and leave other pods running', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({ namespace: 'default', body: pod('bad-host', { hostname: 'Web_0' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('bad-sub', { subdomain: 'svc.cluster' }) });
    await core.createNamespacedPod({ namespace: 'default', body: pod('good', { hostname: 'web-0', subdomain: 'headless' }) });
    const failed = async (name: string) =>
      eventually(async () => {
        const p = await core.readNamespacedPod({ name, namespace: 'default' });
        return p.status?.phase === 'Failed' ? p : undefined;
      }, `${name} Failed`);
    const badHost = await failed('bad-host');
    expect(badHost.status?.reason).toBe('UnexpectedAdmissionError');
    expect(badHost.status?.message).toMatch(/^Pod was rejected: spec\.hostname: Invalid value: "Web_0": a lowercase RFC 1123 label/);
    const badSub = await failed('bad-sub');
    expect(badSub.status?.message).toBe('Pod was rejected: spec.subdomain: Invalid value: "svc.cluster": must not contain dots');
    const good = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'good', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'good Running');
    expect(good.status?.containerStatuses?.[0]?.state?.running).toBeDefined();
    const events = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace: 'default' });
      const mine = list.items.filter((e) => e.involvedObject.name === 'bad-host' && e.type === 'Warning');
      return mine.length > 0 ? mine : undefined;
    }, 'a Warning event for bad-host');
    expect(events[0]?.message).toMatch(/^spec\.hostname: Invalid value: "Web_0"/);
    // Only the valid pod got a sandbox; its hostname is the one it asked for.
    const sandboxes = (await node.kubelet.cri.listPodSandbox({})).items;
    expect(sandboxes.map((s) => s.metadata?.name)).toEqual(['good']);
    const run = node.journal.first((e) => e.source === 'cri' && e.name === 'RunPodSandbox');
    expect((run?.request as { config?: { hostname?: string } }).config?.hostname).toBe('web-0');
  });
});
