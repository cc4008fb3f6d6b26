import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { eventually } from '../test-support/eventually.js';
import { useNodeWithKubectl } from '../test-support/kubectl-node.js';
import type { JournalEntry } from '../../fakes/journal/journal.js';

/**
 * `kubectl patch pod P --subresource resize` against the embedded node: the mock API server takes the
 * patch on pods/P/resize, the agent allocates the new resources and applies them to the running
 * container with UpdateContainerResources (or restarts it when its resizePolicy says so), and the
 * pod's status shows the applied and allocated resources and the resize conditions.
 */
const IMAGE = 'registry.local/busybox:1.36';
// 4 cpu, 8 GiB: allocatable is what the defaults leave of that.
const harness = useNodeWithKubectl({ machine: { cpu: 4, memory: 8n * 1024n ** 3n } });
const { kubectl } = harness;

async function podNamed(name: string): Promise<V1Pod> {
  const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
  return core.readNamespacedPod({ name, namespace: 'default' });
}

async function eventsOf(name: string): Promise<CoreV1Event[]> {
  const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
  const list = await core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

async function createRunningPod(name: string, resizePolicy: Array<{ resourceName: string; restartPolicy: string }> = []): Promise<V1Pod> {
  const { core } = kubeClientsFromString(harness.node.api.kubeconfig());
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name },
      spec: {
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sleep', '3600'],
            resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } },
            ...(resizePolicy.length > 0 ? { resizePolicy } : {}),
          },
        ],
      },
    },
  });
  return eventually(async () => {
    const p = await podNamed(name);
    return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.state?.running ? p : undefined;
  }, `${name} Running`);
}

function updates(containerId: string): JournalEntry[] {
  return harness.node.journal.entries((e) => e.source === 'cri' && e.name === 'UpdateContainerResources' && e.subject['containerId'] === containerId);
}

/** cpu shares, quota, period and memory limit as the fake runtime reports them applied. */
async function linuxResources(id: string): Promise<number[]> {
  const linux = (await harness.node.kubelet.cri.containerStatus({ containerId: id, verbose: false })).status?.resources?.linux;
  return [linux?.cpuShares, linux?.cpuQuota, linux?.cpuPeriod, linux?.memoryLimitInBytes].map((v) => Number(v ?? 0));
}

function containerId(pod: V1Pod): string {
  return (pod.status?.containerStatuses?.[0]?.containerID ?? '').replace(/^[^:]+:\/\//, '');
}

describe('kubectl patch --subresource resize against the embedded node', () => {
  it('applies a cpu increase in place: UpdateContainerResources, no restart, the new values in status and the pod cgroup', async () => {
    const before = await createRunningPod('cpu-up');
    const id = containerId(before);
    expect(before.status?.containerStatuses?.[0]?.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } });
    expect(before.status?.containerStatuses?.[0]?.allocatedResources).toEqual({ cpu: '100m', memory: '64Mi' });

    const { stdout } = await kubectl(
      'patch', 'pod', 'cpu-up', '--subresource', 'resize',
      '--patch', '{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"300m"},"limits":{"cpu":"500m"}}}]}}',
    );
    expect(stdout).toContain('pod/cpu-up patched');

    const after = await eventually(async () => {
      const p = await podNamed('cpu-up');
      const cs = p.status?.containerStatuses?.[0];
      const inProgress = p.status?.conditions?.some((c) => c.type === 'PodResizeInProgress');
      return cs?.resources?.limits?.['cpu'] === '500m' && !inProgress ? p : undefined;
    }, 'resize applied');
    const cs = after.status!.containerStatuses![0]!;
    expect(cs.restartCount).toBe(0);
    expect(containerId(after)).toBe(id);
    expect(cs.resources).toEqual({ requests: { cpu: '300m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
    expect(cs.allocatedResources).toEqual({ cpu: '300m', memory: '64Mi' });
    expect(after.metadata?.generation).toBe(2);

    const calls = updates(id);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.error).toBeUndefined();
    // What the runtime applied: shares from the 300m request, quota from the 500m limit, memory as it was.
    expect(await linuxResources(id)).toEqual([307, 50_000, 100_000, 128 * 1024 * 1024]);

    // Pod cgroup (the stand-in tree here): shares follow the new request, quota the new limit.
    const podDir = join(harness.node.rootDir, 'cgroupfs', 'cpu', 'kubepods', 'burstable', `pod${after.metadata!.uid!}`);
    expect(readFileSync(join(podDir, 'cpu.shares'), 'utf8').trim()).toBe('307');
    expect(readFileSync(join(podDir, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000');

    const reasons = (await eventsOf('cpu-up')).map((e) => e.reason);
    expect(reasons).toContain('ResizeStarted');
    expect(reasons).toContain('ResizeCompleted');
    expect(reasons).not.toContain('Killing');
  });

  it('restarts the container for a memory change when its resizePolicy for memory is RestartContainer', async () => {
    const before = await createRunningPod('mem-restart', [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }]);
    const id = containerId(before);
    await kubectl('patch', 'pod', 'mem-restart', '--subresource', 'resize', '--patch', '{"spec":{"containers":[{"name":"app","resources":{"limits":{"memory":"256Mi"}}}]}}');
    const after = await eventually(async () => {
      const p = await podNamed('mem-restart');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.restartCount === 1 && cs.state?.running && cs.resources?.limits?.['memory'] === '256Mi' ? p : undefined;
    }, 'restarted with the new limit');
    expect(containerId(after)).not.toBe(id);
    expect(updates(id)).toHaveLength(0);
    expect((await linuxResources(containerId(after)))[3]).toBe(256 * 1024 * 1024);
    const killing = (await eventsOf('mem-restart')).find((e) => e.reason === 'Killing');
    expect(killing?.message).toBe('Container app resize requires restart');
  });

  it('leaves an infeasible request pending: PodResizePending/Infeasible, the old values applied', async () => {
    const before = await createRunningPod('too-big');
    const id = containerId(before);
    await kubectl('patch', 'pod', 'too-big', '--subresource', 'resize', '--patch', '{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"100"},"limits":{"cpu":"100"}}}]}}');
    const pending = await eventually(async () => {
      const p = await podNamed('too-big');
      return p.status?.conditions?.find((c) => c.type === 'PodResizePending');
    }, 'PodResizePending');
    expect(pending.status).toBe('True');
    expect(pending.reason).toBe('Infeasible');
    expect(pending.message).toMatch(/^Node didn't have enough capacity: cpu, requested: 100000, capacity: \d+$/);
    expect(pending.observedGeneration).toBe(2);
    const { stdout } = await kubectl('get', 'pod', 'too-big', '-o', 'jsonpath={.spec.containers[0].resources.requests.cpu} {.status.containerStatuses[0].resources.requests.cpu} {.status.containerStatuses[0].allocatedResources.cpu} {.status.containerStatuses[0].restartCount}');
    expect(stdout).toBe('100 100m 100m 0');
    expect(updates(id)).toHaveLength(0);
    expect((await eventsOf('too-big')).map((e) => e.reason)).toContain('ResizeInfeasible');
  });

  it('refuses a resize that would change the QoS class, with kubectl showing the 422', async () => {
    await createRunningPod('qos');
    const err = await harness.kubectlResult('patch', 'pod', 'qos', '--subresource', 'resize', '--patch', '{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"200m","memory":"128Mi"}}}]}}');
    expect(err.code).not.toBe(0);
    expect(err.stderr).toContain('Pod QOS Class may not change as a result of resizing');
  });
});
