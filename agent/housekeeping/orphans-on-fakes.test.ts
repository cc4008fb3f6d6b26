import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalEntry } from '../../fakes/journal/journal.js';
import { kubeClientsFromString } from '../api/kube-client.js';
import { createCriClient, type CriClient } from '../runtime/cri-client.js';
import { eventually } from '../test-support/eventually.js';
import { useRestartableNodes } from '../test-support/restart-agent.js';

const nodes = useRestartableNodes();
let client: CriClient | undefined;
afterEach(() => {
  client?.close();
  client = undefined;
});

const IMAGE = 'registry.local/busybox:1.36';

/** A sandbox with one running container, labelled as the kubelet labels a pod's objects (or not at all). */
async function runPod(cri: CriClient, uid: string, kubeletLabels = true, annotations: Record<string, string> = {}): Promise<{ sandboxId: string; containerId: string }> {
  const labels: Record<string, string> = kubeletLabels ? { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': `pod-${uid}`, 'io.kubernetes.pod.namespace': 'default' } : { owner: 'someone-else' };
  const config = { metadata: { name: `pod-${uid}`, uid, namespace: 'default', attempt: 0 }, labels };
  const { podSandboxId } = await cri.runPodSandbox({ config });
  await cri.pullImage({ image: { image: IMAGE } });
  const { containerId } = await cri.createContainer({
    podSandboxId,
    config: { metadata: { name: 'app', attempt: 0 }, image: { image: IMAGE }, command: ['sleep', '3600'], labels: { ...labels, ...(kubeletLabels ? { 'io.kubernetes.container.name': 'app' } : {}) }, annotations },
    sandboxConfig: config,
  });
  await cri.startContainer({ containerId });
  return { sandboxId: podSandboxId, containerId };
}

function rpc(name: string, subject: Record<string, string>) {
  return (e: JournalEntry) => e.source === 'cri' && e.kind === 'rpc' && e.name === name && !e.error && Object.entries(subject).every(([k, v]) => e.subject[k] === v);
}

describe('housekeeping of runtime objects for pods the agent does not know', () => {
  it('at startup stops the orphan containers (2 s grace) before their sandbox, removes both, and leaves known and foreign pods running', async () => {
    const node = await nodes.start();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'kept', namespace: 'default' }, spec: { nodeName: 'harness-node', containers: [{ name: 'app', image: IMAGE }] } } });
    const kept = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'kept', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'the API pod to run');
    await node.kubelet.stop();
    // Another client of the runtime, as crictl or a previous agent would be.
    client = createCriClient({ runtimeEndpoint: node.cri.endpoint });
    const cri = client;
    // Left behind while no agent ran: a pod deleted from the API in the meantime, and a sandbox some other CRI client owns.
    const orphan = await runPod(cri, 'orphan-uid');
    const foreign = await runPod(cri, 'foreign-uid', false);
    // What a pod deleted while no agent ran leaves on disk: its emptyDir and its log directory.
    const deletedDir = join(node.rootDir, 'pods', 'deleted-uid', 'volumes', 'kubernetes.io~empty-dir', 'data');
    mkdirSync(deletedDir, { recursive: true });
    writeFileSync(join(deletedDir, 'f'), 'left behind');
    const deletedLogs = join(node.kubelet.config.podLogsDir, 'default_deleted_deleted-uid', 'app');
    mkdirSync(deletedLogs, { recursive: true });
    writeFileSync(join(deletedLogs, '0.log'), 'old log\n');
    const mark = node.journal.size;

    await nodes.restart(node);
    const j = node.journal;
    const removed = await eventually(() => j.first((e) => e.seq > mark && rpc('RemovePodSandbox', { podSandboxId: orphan.sandboxId })(e)), 'the orphan sandbox to be removed');
    const stop = j.first((e) => e.seq > mark && rpc('StopContainer', { containerId: orphan.containerId })(e))!;
    const stopSandbox = j.first((e) => e.seq > mark && rpc('StopPodSandbox', { podSandboxId: orphan.sandboxId })(e))!;
    const removeContainer = j.first((e) => e.seq > mark && rpc('RemoveContainer', { containerId: orphan.containerId })(e))!;
    expect(stop.seq).toBeLessThan(stopSandbox.seq);
    expect(stopSandbox.seq).toBeLessThan(removeContainer.seq);
    expect(removeContainer.seq).toBeLessThan(removed.seq);
    expect((stop.request as { timeout?: string | number }).timeout).toSatisfy((t: unknown) => Number(t) === 2);

    const sandboxes = (await cri.listPodSandbox({})).items.map((s) => s.id);
    expect(sandboxes).not.toContain(orphan.sandboxId);
    expect(sandboxes).toContain(foreign.sandboxId);
    expect((await cri.listContainers({})).containers.map((c) => c.id)).toContain(foreign.containerId);
    const keptUid = kept.metadata!.uid!;
    expect(j.entries((e) => e.seq > mark && e.source === 'cri' && /^(Stop|Remove)/.test(e.name) && JSON.stringify(e.request).includes(keptUid))).toEqual([]);
    await eventually(() => (existsSync(join(node.rootDir, 'pods', 'deleted-uid')) || existsSync(deletedLogs) ? undefined : true), 'the deleted pod directories to go');
    expect(existsSync(join(node.rootDir, 'pods', keptUid))).toBe(true);
    const still = await core.readNamespacedPod({ name: 'kept', namespace: 'default' });
    expect(still.status?.phase).toBe('Running');
    expect((await cri.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': keptUid } } })).items.map((s) => s.state)).toEqual(['SANDBOX_READY']);
  });

  it('kills an orphan as upstream does: a Killing event on the pod, its preStop annotation not run, StopContainer with 2 s', async () => {
    const node = await nodes.start();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    // What the agent writes on a container with a preStop hook and a 30 s grace period (container-config.ts).
    const preStop = { exec: { command: ['sh', '-c', 'touch /tmp/prestop-ran'] } };
    const annotations = { 'io.kubernetes.container.preStopHandler': JSON.stringify(preStop), 'io.kubernetes.pod.terminationGracePeriod': '30' };
    const orphan = await runPod(node.kubelet.cri, 'hooked-orphan', true, annotations);
    const j = node.journal;
    const stop = await eventually(() => j.first(rpc('StopContainer', { containerId: orphan.containerId })), 'the orphan container to be stopped', 6_000);
    expect(Number((stop.request as { timeout?: string | number }).timeout)).toBe(2);
    expect(j.entries(rpc('ExecSync', { containerId: orphan.containerId }))).toEqual([]);
    const killing = await eventually(async () => {
      const { items } = await core.listNamespacedEvent({ namespace: 'default' });
      return items.find((e) => e.reason === 'Killing' && e.involvedObject.uid === 'hooked-orphan');
    }, 'the Killing event of the orphan');
    expect(killing.type).toBe('Normal');
    expect(killing.message).toBe('Stopping container app');
    expect(killing.involvedObject).toMatchObject({ kind: 'Pod', name: 'pod-hooked-orphan', namespace: 'default', fieldPath: 'spec.containers{app}' });
  });

  it('while running removes an orphan that appears within a housekeeping period', async () => {
    const node = await nodes.start();
    const orphan = await runPod(node.kubelet.cri, 'late-orphan');
    await eventually(async () => ((await node.kubelet.cri.listPodSandbox({})).items.some((s) => s.id === orphan.sandboxId) ? undefined : true), 'the late orphan to be removed', 6_000);
    expect(node.journal.first(rpc('StopContainer', { containerId: orphan.containerId }))).toBeDefined();
    expect(node.journal.first(rpc('RemoveContainer', { containerId: orphan.containerId }))).toBeDefined();
  });
});
