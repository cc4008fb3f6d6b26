import { describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { eventually } from '../test-support/eventually.js';
import { useRestartableNodes } from '../test-support/restart-agent.js';

const nodes = useRestartableNodes();

describe('an agent restarted on a node with running pods', () => {
  it('adopts the running pod: no container is stopped, recreated or restarted and the pod stays Running', async () => {
    const node = await nodes.start();
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
    const second = await nodes.restart(node);
    // The new agent reads the pod's runtime state, then leaves it running over several syncs and housekeeping passes.
    await eventually(() => second.statusManager.getPodStatus(before.metadata!.uid!)?.containerStatuses?.[0]?.ready || undefined, 'the new agent to see the pod ready');
    await new Promise((r) => setTimeout(r, 3_000));
    const rpcs = node.journal.entries((e) => e.seq > mark && e.source === 'cri' && e.kind === 'rpc');
    expect(rpcs.some((e) => e.name === 'ContainerStatus')).toBe(true);
    expect(rpcs.filter((e) => /^(Stop|Remove|Create|Start|RunPodSandbox)/.test(e.name)).map((e) => e.name)).toEqual([]);
    const p = await core.readNamespacedPod({ name: 'survivor', namespace: 'default' });
    expect(p.status?.phase).toBe('Running');
    expect(p.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(p.status?.containerStatuses?.[0]?.containerID).toBe(before.status?.containerStatuses?.[0]?.containerID);
  });

  it('restarts a running container whose spec changed while no agent ran (its hash no longer matches)', async () => {
    const node = await nodes.start();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'changed', namespace: 'default' }, spec: { nodeName: 'harness-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/app:1' }] } },
    });
    const before = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'changed', namespace: 'default' });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 'the pod to run');
    await node.kubelet.stop();
    await core.patchNamespacedPod({ name: 'changed', namespace: 'default', body: [{ op: 'replace', path: '/spec/containers/0/image', value: 'registry.local/app:2' }] });
    const mark = node.journal.size;
    const second = await nodes.restart(node);
    const after = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'changed', namespace: 'default' });
      const c = p.status?.containerStatuses?.[0];
      return c?.state?.running && c.image === 'registry.local/app:2' ? p : undefined;
    }, 'the container to run the new image');
    const oldId = before.status!.containerStatuses![0]!.containerID!.replace(/^.*:\/\//, '');
    const stop = node.journal.first((e) => e.seq > mark && e.source === 'cri' && e.name === 'StopContainer' && e.subject['containerId'] === oldId);
    expect(stop).toBeDefined();
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    expect(second.events.events.some((e) => e.reason === 'Killing' && e.message === 'Container app definition changed, will be restarted')).toBe(true);
  });

  it('terminates a pod deleted while no agent ran through its worker (graceful stop, object removed), not as an orphan', async () => {
    const node = await nodes.start();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: 'doomed', namespace: 'default' }, spec: { nodeName: 'harness-node', terminationGracePeriodSeconds: 7, containers: [{ name: 'app', image: 'registry.local/app:1' }] } },
    });
    const running = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'doomed', namespace: 'default' });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 'the pod to run');
    await node.kubelet.stop();
    await core.deleteNamespacedPod({ name: 'doomed', namespace: 'default' });
    // Graceful deletion: the object stays, marked, until a kubelet confirms the containers are gone.
    expect((await core.readNamespacedPod({ name: 'doomed', namespace: 'default' })).metadata?.deletionTimestamp).toBeDefined();
    const mark = node.journal.size;
    const second = await nodes.restart(node);
    await eventually(async () => {
      try {
        await core.readNamespacedPod({ name: 'doomed', namespace: 'default' });
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    }, 'the pod object to be removed');
    const id = running.status!.containerStatuses![0]!.containerID!.replace(/^.*:\/\//, '');
    const stop = node.journal.first((e) => e.seq > mark && e.source === 'cri' && e.name === 'StopContainer' && e.subject['containerId'] === id);
    // The pod's own grace period (7 s), not the orphan's 2 s.
    expect(Number((stop?.request as { timeout?: unknown } | undefined)?.timeout)).toBe(7);
    expect(second.events.events.some((e) => e.reason === 'Killing' && e.ref.name === 'doomed')).toBe(true);
  });
});
