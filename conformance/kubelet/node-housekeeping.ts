import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeClientsFromString } from '../../agent/api/kube-client.js';
import { Kubelet } from '../../agent/kubelet.js';
import { nodeStatusImages } from '../../agent/nodestatus/images.js';
import { eventually, runSandbox } from '../cri/support.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { SPEC_NODE, agentCalls, createPod, shellContainer, specOrphanScope, startAgent, waitForPod, type AgentUnderTest } from './support.js';

/**
 * What the agent does about the node as a whole, on each target's runtime: the images it reports in the
 * node status, the runtime objects it finds for pods nobody knows (stopped and removed) or for its own
 * pods after a restart (adopted), and the local storage limits it enforces.
 */

/** A sandbox with one running container, labelled as the kubelet labels a pod that is not (or no longer) in the API. */
async function orphanPod(ctx: SpecContext): Promise<{ sandboxId: string; containerId: string }> {
  const uid = randomUUID();
  const name = ctx.uniqueName('kh-orphan');
  const labels = { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default' };
  const logDirectory = join(ctx.tmpDir, 'orphan-logs', `default_${name}_${uid}`);
  await mkdir(join(logDirectory, 'app'), { recursive: true });
  const config = { metadata: { name, uid, namespace: 'default', attempt: 0 }, hostname: name, logDirectory, labels };
  const { podSandboxId } = await ctx.cri.runPodSandbox({ config });
  // Removed by the agent when the spec passes; this only tidies up after a failure.
  ctx.onCleanup(async () => {
    await ctx.cri.stopPodSandbox({ podSandboxId }).catch(() => undefined);
    await ctx.cri.removePodSandbox({ podSandboxId }).catch(() => undefined);
  });
  const image = ctx.target.images.busybox;
  const present = await ctx.cri.imageStatus({ image: { image } });
  if (!present.image) await ctx.cri.pullImage({ image: { image } });
  const { containerId } = await ctx.cri.createContainer({
    podSandboxId,
    config: { metadata: { name: 'app', attempt: 0 }, image: { image }, command: ['sleep', '3600'], logPath: 'app/0.log', labels: { ...labels, 'io.kubernetes.container.name': 'app' } },
    sandboxConfig: config,
  });
  await ctx.cri.startContainer({ containerId });
  return { sandboxId: podSandboxId, containerId };
}

/** A second agent on the same runtime, API server and root dir, after the first one stopped (a kubelet restart). */
async function restartAgent(ctx: SpecContext, agent: AgentUnderTest): Promise<Kubelet> {
  const first = agent.kubelet;
  await first.stop();
  const next = new Kubelet({
    config: first.config,
    nodeName: first.nodeName,
    rootDir: ctx.tmpDir,
    clock: ctx.target.clock,
    cri: first.cri,
    kubeClients: kubeClientsFromString(agent.api.kubeconfig()),
    machine: first.machine,
    ...specOrphanScope(ctx),
    // Pod cgroups as the first agent had them: the fakes' stand-in tree, or the host shared with other runs.
    ...(first.podCgroups && ctx.target.kind === 'fake' ? { cgroupfsRoot: first.podCgroups.cgroups.root } : { sharedCgroupHost: true }),
    log: (m) => ctx.log(`restarted agent: ${m}`),
  });
  ctx.onCleanup(() => next.stop());
  await next.start();
  await next.podSourceSynced();
  return next;
}

export const kubeletNodeSuite = defineSuite('kubelet/node', [
  {
    title: 'node.status.images lists the runtime images largest first, named by repo digests then tags, with their sizes',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-images');
      await createPod(agent, { metadata: { name }, spec: { terminationGracePeriodSeconds: 2, containers: [shellContainer('app', image, 'sleep 3600')] } });
      await waitForPod(ctx, agent, name, 'Running', (p) => p.status?.phase === 'Running');
      // The node status is written every nodeStatusUpdateFrequency (10 s); the runtime may change meanwhile, so compare until both agree.
      const node = await eventually(
        ctx,
        'node.status.images to match the runtime image list',
        async () => {
          const [n, { images }] = await Promise.all([agent.core.readNode({ name: SPEC_NODE }), ctx.cri.listImages({})]);
          return JSON.stringify(n.status?.images ?? []) === JSON.stringify(nodeStatusImages(images, 50)) ? n : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      const listed = node.status?.images ?? [];
      assert.ok(listed.length > 0, 'the node reports images');
      assert.ok(listed.some((i) => (i.names ?? []).some((n) => n === image || n.endsWith(`/${image}`))), `the pod's image ${image} is among ${JSON.stringify(listed.map((i) => i.names))}`);
      for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1]!.sizeBytes! >= listed[i]!.sizeBytes!, 'images are listed largest first');
    },
  },
  {
    title: 'an agent starting on a runtime with a kubelet-labelled pod nobody knows stops its container (2 s grace) and sandbox and removes both, leaving unlabelled sandboxes alone',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const orphan = await orphanPod(ctx);
      const foreign = await runSandbox(ctx);
      const agent = await startAgent(ctx);
      await eventually(
        ctx,
        'the orphaned sandbox to be removed',
        async () => ((await ctx.cri.listPodSandbox({})).items.some((s) => s.id === orphan.sandboxId) ? undefined : true),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const stop = agentCalls(agent, 'StopContainer').find((e) => e.subject['containerId'] === orphan.containerId);
      assert.ok(stop, 'the agent stopped the orphaned container');
      assert.equal(Number((stop.request as { timeout?: unknown }).timeout), 2, 'with the orphan grace period floored at 2 s');
      const stopSandbox = agentCalls(agent, 'StopPodSandbox').find((e) => e.subject['podSandboxId'] === orphan.sandboxId);
      const removeContainer = agentCalls(agent, 'RemoveContainer').find((e) => e.subject['containerId'] === orphan.containerId);
      const removeSandbox = agentCalls(agent, 'RemovePodSandbox').find((e) => e.subject['podSandboxId'] === orphan.sandboxId);
      assert.ok(stopSandbox && removeContainer && removeSandbox, 'the sandbox was stopped and both were removed');
      assert.ok(stop.seq < stopSandbox.seq && stopSandbox.seq < removeContainer.seq && removeContainer.seq < removeSandbox.seq, 'container stopped, sandbox stopped, container removed, sandbox removed');
      const left = await ctx.cri.listPodSandbox({});
      assert.ok(left.items.some((s) => s.id === foreign.id), 'a sandbox without kubelet labels is left alone');
    },
  },
  {
    title: 'a restarted agent adopts its running pod: no container is stopped or created and the pod stays Running',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const name = ctx.uniqueName('kh-adopt');
      await createPod(agent, { metadata: { name }, spec: { terminationGracePeriodSeconds: 2, containers: [shellContainer('app', ctx.target.images.busybox, 'sleep 3600')] } });
      const before = await waitForPod(ctx, agent, name, 'Running', (p) => p.status?.phase === 'Running');
      const mark = agent.journal.size;
      const next = await restartAgent(ctx, agent);
      const uid = before.metadata!.uid!;
      await eventually(ctx, 'the restarted agent to read the pod from the runtime', async () => next.statusManager.getPodStatus(uid)?.containerStatuses?.[0]?.state?.running ?? undefined, { timeoutMs: 20_000 });
      // Several housekeeping passes (2 s) and a PLEG relist later nothing was touched.
      await ctx.target.clock.sleep(5_000, ctx.signal);
      const touched = agent.journal.entries((e) => e.seq > mark && e.source === 'agent' && /^(Stop|Remove|Create|Start|RunPodSandbox)/.test(e.name)).map((e) => e.name);
      assert.deepEqual(touched, [], 'no runtime object was stopped, removed or created');
      const after = await agent.core.readNamespacedPod({ name, namespace: agent.namespace });
      assert.equal(after.status?.phase, 'Running');
      assert.equal(after.status?.containerStatuses?.[0]?.restartCount, 0);
      assert.equal(after.status?.containerStatuses?.[0]?.containerID, before.status?.containerStatuses?.[0]?.containerID, 'the same container runs');
    },
  },
  {
    title: 'a pod whose emptyDir grows past its sizeLimit is evicted with the upstream message',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const name = ctx.uniqueName('kh-emptydir');
      const fill = 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$LINE" >> /data/fill; done; sleep 3600';
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 2,
          volumes: [{ name: 'data', emptyDir: { sizeLimit: '8Ki' } }],
          containers: [shellContainer('app', ctx.target.images.busybox, fill, { env: [{ name: 'LINE', value: 'x'.repeat(1000) }], volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
        },
      });
      // The eviction manager looks every 10 s.
      const evicted = await waitForPod(ctx, agent, name, 'evicted', (p) => p.status?.phase === 'Failed', 45_000);
      assert.equal(evicted.status?.reason, 'Evicted');
      assert.equal(evicted.status?.message, 'Usage of EmptyDir volume "data" exceeds the limit "8Ki". ');
    },
  },
]);
