import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { eventually } from '../test-support/eventually.js';
import { useRestartableNodes } from '../test-support/restart-agent.js';
import { ALLOCATION_CHECKPOINT_FILE } from './checkpoint.js';

const nodes = useRestartableNodes();

const pendingReason = (p: V1Pod): string | undefined => p.status?.conditions?.find((c) => c.type === 'PodResizePending')?.reason;

describe('an agent restarted while a resize is pending', () => {
  it('keeps the checkpointed allocation: the pod stays admitted and running as allocated, and the resize stays pending', async () => {
    const node = await nodes.start({ machine: { cpu: 4, memory: 8n * 1024n ** 3n } });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'grow', namespace: 'default' },
        spec: { nodeName: 'harness-node', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/app:1', resources: { requests: { cpu: '100m' } } }] },
      },
    });
    const running = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'grow', namespace: 'default' });
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 'the pod to run');
    const uid = running.metadata!.uid!;
    // More cpu than the node has: Infeasible, so the allocation stays at 100m.
    await core.patchNamespacedPodResize({ name: 'grow', namespace: 'default', body: [{ op: 'replace', path: '/spec/containers/0/resources/requests/cpu', value: '64' }] });
    await eventually(async () => pendingReason(await core.readNamespacedPod({ name: 'grow', namespace: 'default' })) === 'Infeasible' || undefined, 'the resize to be pending');
    expect(existsSync(join(node.rootDir, ALLOCATION_CHECKPOINT_FILE))).toBe(true);

    const mark = node.journal.size;
    const second = await nodes.restart(node);
    expect(second.allocation.allocation(uid)?.get('app')).toEqual({ requests: { cpu: '100m' } });
    // The new agent reports the resize as still pending, and the pod as running (not rejected for OutOfcpu).
    await eventually(() => {
      const status = second.statusManager.getPodStatus(uid);
      const pending = status?.conditions?.find((c) => c.type === 'PodResizePending');
      return pending?.reason === 'Infeasible' && status?.containerStatuses?.[0]?.state?.running ? status : undefined;
    }, 'the new agent to hold the resize as pending');
    await new Promise((r) => setTimeout(r, 1_500));
    const p = await core.readNamespacedPod({ name: 'grow', namespace: 'default' });
    expect(p.status?.phase).toBe('Running');
    expect(pendingReason(p)).toBe('Infeasible');
    expect(p.status?.containerStatuses?.[0]?.allocatedResources).toEqual({ cpu: '100m' });
    const rpcs = node.journal.entries((e) => e.seq > mark && e.source === 'cri' && e.kind === 'rpc').map((e) => e.name);
    expect(rpcs.filter((n) => /^(UpdateContainerResources|StopContainer|CreateContainer|RunPodSandbox)$/.test(n))).toEqual([]);
  });
});
