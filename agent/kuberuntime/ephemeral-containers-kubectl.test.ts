import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { eventually } from '../test-support/eventually.js';
import { useNodeWithKubectl } from '../test-support/kubectl-node.js';
import type { JournalEntry } from '../../fakes/journal/journal.js';

/**
 * `kubectl debug POD --image=... --target=...` (without -i: there is no attach streaming) against the
 * embedded node: kubectl patches pods/<name>/ephemeralcontainers, the agent starts the container in the
 * target's PID namespace, `kubectl get -o jsonpath` shows its status, and deleting the pod stops it.
 */
const IMAGE = 'registry.local/busybox:1.36';
const harness = useNodeWithKubectl();
const { kubectl } = harness;

function createCalls(name: string): JournalEntry[] {
  return harness.node.journal.entries((e) => e.source === 'cri' && e.name === 'CreateContainer' && e.error === undefined && (e.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name === name);
}

function createdId(e: JournalEntry): string {
  return (e.response as { containerId?: string }).containerId ?? '';
}

async function podNamed(name: string): Promise<V1Pod> {
  const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
  return core.readNamespacedPod({ name, namespace: 'default' });
}

async function createRunningPod(name: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}): Promise<V1Pod> {
  const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
  await core.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name }, spec: { terminationGracePeriodSeconds: 2, containers: [{ name: 'app', image: IMAGE, command: ['sleep', '3600'] }], ...extra } },
  });
  return eventually(async () => {
    const p = await podNamed(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
  }, `${name} Running`);
}

describe('kubectl debug against the embedded node', () => {
  it("adds an ephemeral container that runs in the target's PID namespace and shows in ephemeralContainerStatuses", async () => {
    await createRunningPod('web');
    const out = await kubectl('debug', 'web', `--image=${IMAGE}`, '--target=app', '--container=debugger', '--', 'sleep', '3600');
    expect(out.stdout + out.stderr).toContain('Targeting container "app"');
    // kubectl sent the container as a patch of the subresource.
    expect(harness.node.journal.entries((e) => e.source === 'apiserver' && e.name === 'patch pods/ephemeralcontainers' && e.subject['name'] === 'web')).toHaveLength(1);

    const status = await eventually(async () => {
      const { stdout } = await kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.ephemeralContainerStatuses}');
      const statuses = stdout === '' ? [] : (JSON.parse(stdout) as V1ContainerStatus[]);
      return statuses[0]?.state?.running ? statuses[0] : undefined;
    }, 'the debugger running');
    const debuggerCreate = createCalls('debugger');
    expect(debuggerCreate).toHaveLength(1);
    const appId = createdId(createCalls('app')[0]!);
    expect(status).toMatchObject({ name: 'debugger', image: IMAGE, restartCount: 0, ready: false, containerID: `fake-cri://${createdId(debuggerCreate[0]!)}` });
    expect(status.imageID).toMatch(/^sha256:|@sha256:/);
    const ns = (debuggerCreate[0]!.request as { config: { linux: { securityContext: { namespaceOptions: unknown } } } }).config.linux.securityContext.namespaceOptions;
    expect(ns).toMatchObject({ pid: 'TARGET', targetId: appId });
    // The fake runtime shows the target's process as PID 1 inside the debugger.
    const exec = await harness.node.kubelet.cri.execSync({ containerId: createdId(debuggerCreate[0]!), cmd: ['cat', '/proc/1/cmdline'], timeout: 5 });
    expect(Buffer.from(exec.stdout).toString()).toBe('sleep\u00003600\u0000');
    const { stdout: phase } = await kubectl('get', 'pod', 'web', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].ready}');
    expect(phase).toBe('Running true');
    const started = (await harness.node.kubelet.metrics.startedContainers.get()).values.find((v) => v.labels['container_type'] === 'ephemeral_container');
    expect(started?.value).toBe(1);
  });

  it('never restarts an ephemeral container that exited, and stops a running one with the pod', async () => {
    await createRunningPod('once');
    await kubectl('debug', 'once', `--image=${IMAGE}`, '--container=quick', '--', 'sh', '-c', 'echo hello from quick; exit 3');
    const exited = await eventually(async () => {
      const s = (await podNamed('once')).status?.ephemeralContainerStatuses?.find((c) => c.name === 'quick');
      return s?.state?.terminated ? s : undefined;
    }, 'quick to exit');
    expect(exited.state?.terminated?.exitCode).toBe(3);
    expect(exited.restartCount).toBe(0);
    // Its output is there for kubectl logs like any container's.
    expect((await kubectl('logs', 'once', '-c', 'quick')).stdout).toBe('hello from quick\n');
    await kubectl('debug', 'once', `--image=${IMAGE}`, '--target=app', '--container=stays', '--', 'sleep', '3600');
    await eventually(async () => ((await podNamed('once')).status?.ephemeralContainerStatuses?.find((c) => c.name === 'stays')?.state?.running ? true : undefined), 'stays to run');
    // Syncs after the second debug container went in (it was one) started nothing for the exited one.
    expect(createCalls('quick')).toHaveLength(1);
    const staysId = createdId(createCalls('stays')[0]!);

    await kubectl('delete', 'pod', 'once', '--wait=false');
    await eventually(async () => {
      try {
        await podNamed('once');
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    }, 'once gone', 30_000);
    const stop = harness.node.journal.entries((e) => e.source === 'cri' && e.name === 'StopContainer' && (e.request as { containerId?: string }).containerId === staysId);
    expect(stop.length).toBeGreaterThanOrEqual(1);
    const sandboxStop = harness.node.journal.entries((e) => e.source === 'cri' && e.name === 'StopPodSandbox');
    expect(sandboxStop.some((e) => e.seq > stop[0]!.seq)).toBe(true);
    expect(createCalls('quick')).toHaveLength(1);
  });

  it('starts a debug container while an init container still runs, in that init container\'s PID namespace', async () => {
    const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name: 'stuck' },
        spec: { terminationGracePeriodSeconds: 1, initContainers: [{ name: 'wait', image: IMAGE, command: ['sleep', '3601'] }], containers: [{ name: 'app', image: IMAGE, command: ['sleep', '3600'] }] },
      },
    });
    await eventually(async () => ((await podNamed('stuck')).status?.initContainerStatuses?.[0]?.state?.running ? true : undefined), 'wait running');
    await kubectl('debug', 'stuck', `--image=${IMAGE}`, '--target=wait', '--container=peek', '--', 'sleep', '3600');
    const pod = await eventually(async () => {
      const p = await podNamed('stuck');
      return p.status?.ephemeralContainerStatuses?.[0]?.state?.running ? p : undefined;
    }, 'peek running');
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    const peek = createCalls('peek')[0]!;
    const exec = await harness.node.kubelet.cri.execSync({ containerId: createdId(peek), cmd: ['cat', '/proc/1/cmdline'], timeout: 5 });
    expect(Buffer.from(exec.stdout).toString()).toBe('sleep\u00003601\u0000');
    await core.deleteNamespacedPod({ name: 'stuck', namespace: 'default' });
  });

  it('leaves a debug container whose target is not running waiting with CreateContainerConfigError and a Failed event', async () => {
    await createRunningPod('inited', { initContainers: [{ name: 'setup', image: IMAGE, command: ['true'] }] });
    await kubectl('debug', 'inited', `--image=${IMAGE}`, '--target=setup', '--container=late', '--', 'sleep', '3600');
    const waiting = await eventually(async () => {
      const s = (await podNamed('inited')).status?.ephemeralContainerStatuses?.find((c) => c.name === 'late');
      return s?.state?.waiting?.reason === 'CreateContainerConfigError' ? s : undefined;
    }, 'late waiting');
    expect(waiting.state?.waiting?.message).toBe('unable to find target container setup');
    const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
    const event = await eventually(async () => {
      const list = await core.listNamespacedEvent({ namespace: 'default' });
      return list.items.find((e) => e.involvedObject.name === 'inited' && e.reason === 'Failed' && e.involvedObject.fieldPath === 'spec.ephemeralContainers{late}');
    }, 'the Failed event');
    expect(event.message).toBe('Error: unable to find target container setup');
    expect(createCalls('late')).toHaveLength(0);
    expect((await podNamed('inited')).status?.phase).toBe('Running');
  });

  it('reports a target that is not a container of the pod as kubectl shows it (422 naming the field)', async () => {
    await createRunningPod('strict');
    const failure = await harness.kubectlResult('debug', 'strict', `--image=${IMAGE}`, '--target=nope', '--container=dbg', '--', 'sleep', '1');
    expect(failure.code).not.toBe(0);
    expect(failure.stderr).toContain('spec.ephemeralContainers[0].targetContainerName: Not found: "nope"');
  });
});
