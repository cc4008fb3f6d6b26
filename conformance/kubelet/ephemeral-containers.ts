import assert from 'node:assert/strict';
import type { V1ContainerStatus, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { POD_UID_LABEL } from '../../agent/kuberuntime/labels.js';
import type { JournalEntry } from '../../fakes/journal/journal.js';
import { defineSuite } from '../framework/spec.js';
import { agentCalls, createPod, createdContainer, shellContainer, startAgent, waitForPod, waitForPodGone, type AgentUnderTest } from './support.js';

/**
 * Ephemeral containers (what `kubectl debug` adds) on the target's runtime: added through the
 * pods/ephemeralcontainers subresource, each runs once in the target container's PID namespace (its
 * PID 1 is the target's process), an exited one is never started again, and all are stopped with the pod.
 */

async function addEphemeral(agent: AgentUnderTest, name: string, container: V1EphemeralContainer): Promise<void> {
  const pod = await agent.core.readNamespacedPod({ name, namespace: agent.namespace });
  const list = [...(pod.spec?.ephemeralContainers ?? []), container];
  // A JSON patch, as client-node sends by default: no resourceVersion, so status writes cannot race it.
  await agent.core.patchNamespacedPodEphemeralcontainers({ name, namespace: agent.namespace, body: [{ op: 'add', path: '/spec/ephemeralContainers', value: list }] });
}

function ephemeralStatus(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return pod.status?.ephemeralContainerStatuses?.find((c) => c.name === name);
}

function createsOf(agent: AgentUnderTest, container: string): JournalEntry[] {
  return agentCalls(agent, 'CreateContainer').filter((e) => createdContainer(e).name === container);
}

export const kubeletEphemeralContainersSuite = defineSuite('kubelet/ephemeral-containers', [
  {
    title: "an ephemeral container runs once in its target's PID namespace, is never restarted after it exits, and is stopped with the pod",
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-debug');
      await createPod(agent, {
        metadata: { name },
        spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
      });
      const running = await waitForPod(ctx, agent, name, 'Running', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);

      await addEphemeral(agent, name, { name: 'debugger', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], targetContainerName: 'app' });
      const withDebugger = await waitForPod(ctx, agent, name, 'the debugger running', (p) => ephemeralStatus(p, 'debugger')?.state?.running !== undefined);
      const status = ephemeralStatus(withDebugger, 'debugger')!;
      assert.equal(status.restartCount, 0, 'restartCount 0');
      assert.equal(status.image, image, 'the image as written');
      assert.ok(status.imageID, 'an imageID');
      const appCreate = createsOf(agent, 'app')[0];
      const debuggerCreates = createsOf(agent, 'debugger');
      assert.ok(appCreate, 'the agent created app');
      assert.equal(debuggerCreates.length, 1, 'the debugger was created once');
      const debuggerId = createdContainer(debuggerCreates[0]!).id;
      assert.ok(status.containerID?.endsWith(`://${debuggerId}`), `containerID names the created container (${status.containerID})`);
      const ns = (debuggerCreates[0]!.request as { config?: { linux?: { securityContext?: { namespaceOptions?: { pid?: string; targetId?: string } } } } }).config?.linux?.securityContext?.namespaceOptions;
      assert.equal(ns?.pid, 'TARGET', 'the debugger asks for the PID namespace of a target');
      assert.equal(ns?.targetId, createdContainer(appCreate).id, "the target is app's container");
      // Inside the target's PID namespace, PID 1 is the app's `sleep 3600`.
      const exec = await ctx.cri.execSync({ containerId: debuggerId, cmd: ['cat', '/proc/1/cmdline'], timeout: 10 });
      assert.equal(exec.exitCode, 0, `cat /proc/1/cmdline exits 0 (stderr: ${Buffer.from(exec.stderr).toString()})`);
      assert.equal(Buffer.from(exec.stdout).toString('utf8'), 'sleep\u00003600\u0000', "the debugger sees the app's process as PID 1");
      assert.equal(withDebugger.status?.phase, 'Running', 'the pod is still Running');
      assert.equal(withDebugger.status?.containerStatuses?.[0]?.containerID, running.status?.containerStatuses?.[0]?.containerID, 'app was not restarted');

      await addEphemeral(agent, name, shellContainer('once', image, 'exit 3'));
      const exited = ephemeralStatus(await waitForPod(ctx, agent, name, 'once exited', (p) => ephemeralStatus(p, 'once')?.state?.terminated !== undefined), 'once')!;
      assert.equal(exited.state?.terminated?.exitCode, 3, 'once exited 3');
      // Another addition makes the agent sync the pod with the exited container present.
      await addEphemeral(agent, name, shellContainer('later', image, 'sleep 3600'));
      const later = await waitForPod(ctx, agent, name, 'later running', (p) => ephemeralStatus(p, 'later')?.state?.running !== undefined);
      assert.equal(createsOf(agent, 'once').length, 1, 'the exited ephemeral container was not started again');
      assert.equal(ephemeralStatus(later, 'once')?.restartCount, 0, 'its restartCount stays 0');
      assert.ok(ephemeralStatus(later, 'once')?.state?.terminated, 'it is still reported terminated');

      const uid = running.metadata!.uid!;
      await agent.core.deleteNamespacedPod({ name, namespace: agent.namespace });
      await waitForPodGone(ctx, agent, name);
      const laterId = createdContainer(createsOf(agent, 'later')[0]!).id;
      const stopSandbox = agentCalls(agent, 'StopPodSandbox').find((e) => e.seq > debuggerCreates[0]!.seq);
      assert.ok(stopSandbox, 'the sandbox was stopped');
      for (const [what, id] of [['debugger', debuggerId], ['later', laterId]] as const) {
        const stop = agentCalls(agent, 'StopContainer').find((e) => e.subject['containerId'] === id);
        assert.ok(stop, `${what} was stopped`);
        assert.ok(stop.seq < stopSandbox.seq, `${what} was stopped (seq ${stop.seq}) before the sandbox (seq ${stopSandbox.seq})`);
      }
      const left = await ctx.cri.listContainers({ filter: { labelSelector: { [POD_UID_LABEL]: uid } } });
      assert.deepEqual(left.containers.map((c) => c.metadata?.name), [], 'no container of the pod is left');
    },
  },
]);
