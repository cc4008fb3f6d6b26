import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import type { JournalEntry } from '../../fakes/journal/journal.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import {
  agentCalls,
  createPod,
  createdContainer,
  firstCall,
  specEntries,
  shellContainer,
  startAgent,
  FAKE_CSI_DRIVER,
  waitForPod,
  waitForPodGone,
  type AgentUnderTest,
} from './support.js';

/**
 * Happens-before on the journal for a pod's life in the kubelet: sandbox (with its CNI ADD) → each init
 * container created, started and seen exited 0 before the next is created → app containers → postStart;
 * and on deletion preStop → StopContainer → StopPodSandbox (with its CNI DEL) → RemovePodSandbox → the
 * pod object removed.
 *
 * The agent journals a CRI call when it returns (source 'agent'), the CNI plugin when the runtime runs it
 * (source 'cni', acknowledged before the plugin answers), both into one journal. So a CNI entry before an
 * agent entry means the plugin ran before that call returned; that the ADD names the sandbox ID the
 * runtime made shows it ran after RunPodSandbox was sent.
 */

function before(a: JournalEntry, b: JournalEntry, what: string): void {
  assert.ok(a.seq < b.seq, `${what}: seq ${a.seq} (${a.name}) should come before seq ${b.seq} (${b.name})`);
}

function exitedZeroBefore(agent: AgentUnderTest, containerId: string, limit: JournalEntry): JournalEntry {
  const seen = agentCalls(agent, 'ContainerStatus').find((e) => {
    const s = (e.response as { status?: { state?: string; exitCode?: number } }).status;
    return e.subject['containerId'] === containerId && s?.state === 'CONTAINER_EXITED' && s.exitCode === 0 && e.seq < limit.seq;
  });
  assert.ok(seen, `the agent never saw container ${containerId.slice(0, 12)} exited with 0 before seq ${limit.seq} (${limit.name})`);
  return seen;
}

/**
 * The runtime's CNI calls reach the target's journal on the fakes and on the containerd the harness
 * provisions (the project plugin is chained there); a foreign runtime keeps no journal, so only the CRI
 * order can be checked on it.
 */
function cniVisible(ctx: SpecContext): boolean {
  if (ctx.journal) return true;
  ctx.log('CNI ADD/DEL not checked: this target keeps no journal of its CNI calls');
  return false;
}

function cniCalls(agent: AgentUnderTest, command: 'ADD' | 'DEL', sandboxId: string): JournalEntry[] {
  return specEntries(agent, (e) => e.source === 'cni' && e.name === command && e.subject['podSandboxId'] === sandboxId);
}

/** The one successful CNI ADD of the sandbox, which completed inside RunPodSandbox. */
function networkAdded(agent: AgentUnderTest, sandbox: JournalEntry): JournalEntry {
  const sandboxId = (sandbox.response as { podSandboxId: string }).podSandboxId;
  const adds = cniCalls(agent, 'ADD', sandboxId);
  assert.equal(adds.length, 1, `one CNI ADD for sandbox ${sandboxId.slice(0, 12)}, saw ${adds.length}`);
  const add = adds[0]!;
  assert.equal(add.error, undefined, `CNI ADD succeeded: ${JSON.stringify(add.error)}`);
  assert.equal(add.subject['ifname'], 'eth0', 'the pod network is attached as eth0');
  before(add, sandbox, 'CNI ADD runs inside RunPodSandbox (it has finished before the call returns)');
  return add;
}

function created(agent: AgentUnderTest, name: string): { id: string; entry: JournalEntry } {
  const entry = firstCall(agent, 'CreateContainer', `create ${name}`, (e) => createdContainer(e).name === name);
  return { id: createdContainer(entry).id, entry };
}

async function runningPod(ctx: SpecContext, agent: AgentUnderTest, pod: V1Pod): Promise<V1Pod> {
  await createPod(agent, pod);
  return waitForPod(ctx, agent, pod.metadata!.name!, 'Running with every container ready', (p) =>
    p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && (p.status.containerStatuses ?? []).every((c) => c.ready),
  );
}

export const kubeletOrderingSuite = defineSuite('kubelet/ordering', [
  {
    title: 'a pod starts in the kubelet order: sandbox with its CNI ADD, init containers one at a time each exited 0 before the next, app containers, then postStart',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-order');
      const running = await runningPod(ctx, agent, {
        metadata: { name },
        spec: {
          initContainers: [shellContainer('init-1', image, 'exit 0'), shellContainer('init-2', image, 'exit 0')],
          containers: [
            shellContainer('app', image, 'sleep 3600', {
              lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo started > /tmp/poststart'] } } },
            }),
          ],
        },
      });
      const j = agent.journal;
      const sandbox = firstCall(agent, 'RunPodSandbox', 'create the pod sandbox');
      const init1 = created(agent, 'init-1');
      const init2 = created(agent, 'init-2');
      const app = created(agent, 'app');
      before(sandbox, init1.entry, 'the sandbox exists before the first init container');
      if (cniVisible(ctx)) {
        const add = networkAdded(agent, sandbox);
        before(add, init1.entry, 'the pod network is set up before the first init container is created');
        const podIp = running.status?.podIP ?? '';
        assert.ok(podIp, 'the running pod reports a pod IP');
        assert.ok(JSON.stringify(add.response).includes(`"${podIp}/`), `the CNI ADD result holds the pod IP ${podIp}: ${JSON.stringify(add.response)}`);
      }
      for (const [c, image] of [[init1, 'init-1'], [init2, 'init-2'], [app, 'app']] as const) {
        const check = firstCall(agent, 'ImageStatus', `image check for ${image}`, (e) => e.seq < c.entry.seq && e.seq > sandbox.seq);
        before(check, c.entry, `the image of ${image} is ensured before it is created`);
      }
      const init1Start = firstCall(agent, 'StartContainer', 'start init-1', (e) => e.subject['containerId'] === init1.id);
      before(init1Start, init2.entry, 'init-1 is started before init-2 is created');
      exitedZeroBefore(agent, init1.id, init2.entry);
      const init2Start = firstCall(agent, 'StartContainer', 'start init-2', (e) => e.subject['containerId'] === init2.id);
      before(init2Start, app.entry, 'init-2 is started before the app container is created');
      exitedZeroBefore(agent, init2.id, app.entry);
      const appStart = firstCall(agent, 'StartContainer', 'start app', (e) => e.subject['containerId'] === app.id);
      const postStart = firstCall(agent, 'ExecSync', 'the postStart hook', (e) => e.subject['containerId'] === app.id);
      before(appStart, postStart, 'postStart runs after the app container started');
      assert.equal(agentCalls(agent, 'RunPodSandbox').length, 1, 'exactly one sandbox is created');
    },
  },
  {
    title: 'deleting a pod runs preStop, stops its containers within the grace period, stops the sandbox (CNI DEL) and removes it, then removes the pod object',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-delete');
      const pod = await runningPod(ctx, agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [
            shellContainer('app', image, 'sleep 3600', {
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo bye > /tmp/prestop'] } } },
            }),
          ],
        },
      });
      const uid = pod.metadata!.uid!;
      await agent.core.deleteNamespacedPod({ name, namespace: agent.namespace });
      await waitForPodGone(ctx, agent, name);
      const j = agent.journal;
      const sandbox = firstCall(agent, 'RunPodSandbox', 'create the pod sandbox');
      const sandboxId = (sandbox.response as { podSandboxId: string }).podSandboxId;
      const app = created(agent, 'app');
      const preStop = firstCall(agent, 'ExecSync', 'the preStop hook', (e) => e.subject['containerId'] === app.id && JSON.stringify(e.request).includes('prestop'));
      const stop = firstCall(agent, 'StopContainer', 'stop the app container', (e) => e.subject['containerId'] === app.id && e.seq > preStop.seq);
      const timeout = Number((stop.request as { timeout?: number | string }).timeout);
      assert.ok(timeout >= 2 && timeout <= 5, `StopContainer gets the remaining grace (2..5 s), got ${timeout}`);
      const stopSandbox = firstCall(agent, 'StopPodSandbox', 'stop the sandbox', (e) => e.subject['podSandboxId'] === sandboxId);
      const removeSandbox = firstCall(agent, 'RemovePodSandbox', 'remove the sandbox', (e) => e.subject['podSandboxId'] === sandboxId);
      before(preStop, stop, 'preStop runs before StopContainer');
      before(stop, stopSandbox, 'containers stop before the sandbox');
      before(stopSandbox, removeSandbox, 'the sandbox stops before it is removed');
      if (cniVisible(ctx)) {
        networkAdded(agent, sandbox);
        const dels = cniCalls(agent, 'DEL', sandboxId);
        assert.ok(dels.length >= 1, 'the pod network is torn down with a CNI DEL');
        before(stop, dels[0]!, 'the containers stop before the pod network is torn down');
        before(dels[0]!, stopSandbox, 'CNI DEL runs inside StopPodSandbox (it has finished before the call returns)');
        for (const del of dels) {
          // containerd 1.6 repeats DEL in the stop inside RemovePodSandbox (DEL is idempotent); never after removal.
          assert.equal(del.error, undefined, `CNI DEL succeeded: ${JSON.stringify(del.error)}`);
          before(stop, del, 'no CNI DEL before the containers stopped');
          before(del, removeSandbox, 'no CNI DEL after the sandbox is removed');
        }
      }
      const deletes = specEntries(agent, (e) => e.source === 'apiserver' && /^delete pods$/i.test(e.name) && e.subject['name'] === name);
      const last = deletes.at(-1);
      assert.ok(last, 'the pod object was deleted through the API');
      before(removeSandbox, last, 'the pod object is removed after the sandbox');
      const { items } = await ctx.cri.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
      assert.deepEqual(items.map((s) => s.id), [], 'no sandbox of the pod is left');
      const { containers } = await ctx.cri.listContainers({ filter: { labelSelector: { 'io.kubernetes.pod.uid': uid } } });
      assert.deepEqual(containers.map((c) => c.id), [], 'no container of the pod is left');
    },
  },
  {
    title: 'a CSI volume is published before the sandbox is created and unpublished after the sandbox is removed',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-volume');
      const pod = await runningPod(ctx, agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 2,
          volumes: [{ name: 'data', csi: { driver: FAKE_CSI_DRIVER } }],
          containers: [shellContainer('app', image, 'sleep 3600', { volumeMounts: [{ name: 'data', mountPath: '/data' }] })],
        },
      });
      const uid = pod.metadata!.uid!;
      const csiCall = (rpc: string) => (e: JournalEntry) => e.source === 'csi' && e.name === rpc && !e.error && e.subject['podUid'] === uid;
      const publish = specEntries(agent, csiCall('NodePublishVolume'))[0];
      assert.ok(publish, 'the volume was published for the pod');
      const sandbox = firstCall(agent, 'RunPodSandbox', 'create the pod sandbox');
      const app = created(agent, 'app');
      before(publish, sandbox, 'the volume is published before the sandbox');
      if (cniVisible(ctx)) before(publish, networkAdded(agent, sandbox), 'the volume is published before the pod network is set up');
      before(sandbox, app.entry, 'the sandbox exists before the container');
      const mounts = (app.entry.request as { config?: { mounts?: Array<{ containerPath?: string }> } }).config?.mounts ?? [];
      assert.ok(mounts.some((m) => m.containerPath === '/data'), 'the container mounts the volume at /data');
      await agent.core.deleteNamespacedPod({ name, namespace: agent.namespace });
      await waitForPodGone(ctx, agent, name);
      const sandboxId = (sandbox.response as { podSandboxId: string }).podSandboxId;
      const removed = firstCall(agent, 'RemovePodSandbox', 'remove the sandbox', (e) => e.subject['podSandboxId'] === sandboxId);
      const unpublish = specEntries(agent, csiCall('NodeUnpublishVolume'))[0];
      assert.ok(unpublish, 'the volume was unpublished');
      before(removed, unpublish, 'the volume is unpublished after the sandbox is removed');
    },
  },
  {
    title: 'an init container that fails under restartPolicy Never fails the pod and no app container is ever created',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-initfail');
      await createPod(agent, {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          initContainers: [shellContainer('init', image, 'exit 7')],
          containers: [shellContainer('app', image, 'sleep 3600')],
        },
      });
      const failed = await waitForPod(ctx, agent, name, 'Failed', (p) => p.status?.phase === 'Failed');
      assert.equal(failed.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 7);
      assert.equal(
        agentCalls(agent, 'CreateContainer').filter((e) => createdContainer(e).name === 'app').length,
        0,
        'the app container is never created',
      );
      const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.reason, 'PodFailed');
    },
  },
  {
    title: 'a container that keeps exiting non-zero under restartPolicy Always is restarted, waiting in CrashLoopBackOff between restarts',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-crash');
      await createPod(agent, { metadata: { name }, spec: { containers: [shellContainer('app', image, 'exit 3')] } });
      let sawBackOff = false;
      const pod = await waitForPod(
        ctx,
        agent,
        name,
        'restartCount >= 2',
        (p) => {
          const cs = p.status?.containerStatuses?.[0];
          if (cs?.state?.waiting?.reason === 'CrashLoopBackOff') sawBackOff = true;
          return (cs?.restartCount ?? 0) >= 2;
        },
        60_000,
      );
      assert.equal(pod.status?.phase, 'Running', 'an Always pod stays Running while it crash-loops');
      assert.ok(sawBackOff, 'the container was seen waiting with reason CrashLoopBackOff');
      assert.equal(pod.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 3);
      const starts = agentCalls(agent, 'StartContainer');
      assert.ok(starts.length >= 3, `three starts expected, saw ${starts.length}`);
      const gap = starts[2]!.t - starts[1]!.t;
      assert.ok(gap >= 9_000, `the second restart waits for the 10 s backoff, waited ${Math.round(gap)} ms`);
    },
  },
  {
    title: 'a pod whose containers all exit 0 under restartPolicy OnFailure ends Succeeded without restarts',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-done');
      await createPod(agent, { metadata: { name }, spec: { restartPolicy: 'OnFailure', containers: [shellContainer('app', image, 'exit 0')] } });
      const done = await waitForPod(ctx, agent, name, 'Succeeded', (p) => p.status?.phase === 'Succeeded');
      assert.equal(done.status?.containerStatuses?.[0]?.restartCount, 0);
      assert.equal(done.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
      assert.equal(done.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
    },
  },
]);
