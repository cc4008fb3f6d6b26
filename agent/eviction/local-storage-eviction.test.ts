import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../ci/util/wait.js';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';

/** The agent on the fakes evicting pods over their local storage limits, measured from CRI stats and the node's disk. */

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

const IMAGE = 'registry.local/busybox:1.36';

async function start(extra: Parameters<typeof startEmbeddedNode>[0] = {}) {
  node = await startEmbeddedNode({ evictionMonitoringIntervalMs: 300, ...extra });
  return kubeClientsFromString(node.api.kubeconfig()).core;
}

function pod(name: string, spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod {
  return { metadata: { name, namespace: 'default' }, spec: { nodeName: 'harness-node', terminationGracePeriodSeconds: 30, containers: [], ...spec } };
}

/** kubelet_evictions{eviction_signal} once it reached 1 (it counts after the kill, which follows the status). */
async function evictionCounted(signal: string): Promise<void> {
  await waitFor(
    `kubelet_evictions{eviction_signal="${signal}"}`,
    async () => ((await node!.kubelet.metrics.evictions.get()).values.some((v) => v.labels['eviction_signal'] === signal && v.value === 1) ? true : undefined),
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}

async function phase(core: Awaited<ReturnType<typeof start>>, name: string, wanted: string, timeoutMs = 15_000): Promise<V1Pod> {
  return waitFor(
    `pod ${name} ${wanted}`,
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: 'default' });
      return p.status?.phase === wanted ? p : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

describe('local storage evictions on the fakes', () => {
  it('evicts a pod whose emptyDir grows past its sizeLimit, and not one whose emptyDir stays within it', async () => {
    const core = await start();
    const line = 'x'.repeat(1000);
    const fill = `for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$LINE" >> /data/fill; done; sleep 3600`;
    const writer = (name: string, sizeLimit: string) =>
      pod(name, {
        volumes: [{ name: 'data', emptyDir: { sizeLimit } }],
        containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', fill], env: [{ name: 'LINE', value: line }], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      });
    await core.createNamespacedPod({ namespace: 'default', body: writer('roomy', '1Mi') });
    await core.createNamespacedPod({ namespace: 'default', body: writer('cramped', '8Ki') });
    const evicted = await phase(core, 'cramped', 'Failed');
    expect(evicted.status?.reason).toBe('Evicted');
    expect(evicted.status?.message).toBe('Usage of EmptyDir volume "data" exceeds the limit "8Ki". ');
    await evictionCounted('emptydirfs.limit');
    // The container was stopped with the 1 s eviction grace period, floored at 2 s.
    const uid = evicted.metadata!.uid!;
    const stop = node!.journal.first((e) => e.source === 'cri' && e.name === 'StopContainer' && !e.error);
    expect(Number((stop?.request as { timeout?: unknown } | undefined)?.timeout)).toBe(2);
    expect(node!.kubelet.events.events.some((e) => e.ref.uid === uid && e.reason === 'Evicted' && e.annotations === undefined)).toBe(true);
    const roomy = await core.readNamespacedPod({ name: 'roomy', namespace: 'default' });
    expect(roomy.status?.phase).toBe('Running');
  });

  it('evicts a pod whose container writable layer passes that container ephemeral-storage limit, naming the container', async () => {
    const core = await start();
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('layers', {
        containers: [
          { name: 'grows', image: IMAGE, env: [{ name: 'FAKE_DISK_SCHEDULE', value: '100Ki for 1s then 3Mi' }], resources: { limits: { 'ephemeral-storage': '2Mi' } } },
          { name: 'steady', image: IMAGE, resources: { limits: { 'ephemeral-storage': '10Mi' } } },
        ],
      }),
    });
    const evicted = await phase(core, 'layers', 'Failed');
    expect(evicted.status?.reason).toBe('Evicted');
    expect(evicted.status?.message).toBe('Container grows exceeded its local ephemeral storage limit "2Mi". ');
    await evictionCounted('ephemeralcontainerfs.limit');
  });

  it('counts the container log files against the pod ephemeral-storage limit', async () => {
    const core = await start();
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('talker', { containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'echo hello; sleep 3600'], resources: { limits: { 'ephemeral-storage': '1Mi' } } }] }),
    });
    const running = await phase(core, 'talker', 'Running');
    // Within the limit while the log is small.
    await new Promise((r) => setTimeout(r, 700));
    expect((await core.readNamespacedPod({ name: 'talker', namespace: 'default' })).status?.phase).toBe('Running');
    const log = join(node!.kubelet.config.podLogsDir, `default_talker_${running.metadata!.uid!}`, 'app', '0.log');
    appendFileSync(log, `${new Date().toISOString()} stdout F ${'y'.repeat(2 * 1024 * 1024)}\n`);
    const evicted = await phase(core, 'talker', 'Failed');
    expect(evicted.status?.message).toBe('Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ');
  });

  it('records the Evicted event of a threshold eviction in the API with the offending container annotations', async () => {
    const core = await start({ machine: { memory: 1024n * 1024n * 1024n }, configOverrides: { evictionHard: { 'memory.available': '100Mi' } } });
    await core.createNamespacedPod({
      namespace: 'default',
      body: pod('hog', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: IMAGE, env: [{ name: 'FAKE_MEMORY_SCHEDULE', value: '10Mi for 1s then 980Mi' }] }] }),
    });
    const evicted = await phase(core, 'hog', 'Failed');
    const event = await waitFor(
      'the Evicted event',
      async () => (await core.listNamespacedEvent({ namespace: 'default' })).items.find((e) => e.reason === 'Evicted' && e.involvedObject.uid === evicted.metadata!.uid),
      { timeoutMs: 5_000, intervalMs: 50 },
    );
    expect(event.message).toBe(evicted.status?.message);
    expect(event.metadata.annotations).toEqual({ offending_containers: 'app', offending_containers_usage: '980Mi', starved_resource: 'memory' });
  });
});
