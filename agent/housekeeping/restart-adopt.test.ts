import { afterEach, describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';
import type { Kubelet } from '../kubelet.js';
import { eventually, restartAgent } from './test-support.js';

let node: EmbeddedNode | undefined;
let second: Kubelet | undefined;
afterEach(async () => {
  await second?.stop();
  second = undefined;
  await node?.close();
  node = undefined;
});

describe('an agent restarted on a node with running pods', () => {
  it('adopts the running pod: no container is stopped, recreated or restarted and the pod stays Running', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'survivor', namespace: 'default' },
        spec: { nodeName: 'harness-node', containers: [{ name: 'app', image: 'registry.local/app:1', readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 } }] },
      },
    });
    const before = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'survivor', namespace: 'default' });
      return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
    }, 'the pod to be ready');
    const mark = node.journal.size;
    second = await restartAgent(node);
    // The new agent reads the pod's runtime state, then leaves it running over several syncs and housekeeping passes.
    await eventually(() => second!.statusManager.getPodStatus(before.metadata!.uid!)?.containerStatuses?.[0]?.ready || undefined, 'the new agent to see the pod ready');
    await new Promise((r) => setTimeout(r, 3_000));
    const rpcs = node.journal.entries((e) => e.seq > mark && e.source === 'cri' && e.kind === 'rpc');
    expect(rpcs.some((e) => e.name === 'ContainerStatus')).toBe(true);
    expect(rpcs.filter((e) => /^(Stop|Remove|Create|Start|RunPodSandbox)/.test(e.name)).map((e) => e.name)).toEqual([]);
    const p = await core.readNamespacedPod({ name: 'survivor', namespace: 'default' });
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(p.status?.containerStatuses?.[0]?.containerID).toBe(before.status?.containerStatuses?.[0]?.containerID);
  });
});
