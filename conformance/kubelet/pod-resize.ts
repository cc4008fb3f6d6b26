import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupManager, CgroupName } from '../../agent/cm/cgroup-manager.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { agentCalls, containerIdOf, runningPodWithCgroups, waitForPod } from './support.js';

/**
 * In-place pod resize (InPlacePodVerticalScaling, GA in Kubernetes 1.35): a cpu request and limit raised
 * through pods/{name}/resize reach the running container with UpdateContainerResources and no restart;
 * the runtime reports the new settings, the container's and the pod's cgroups carry them (on a real
 * runtime), and the status shows them in containerStatuses[].resources and allocatedResources.
 */

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** The cpu settings of one cgroup, for the report and the comparison. */
function cpuSettings(cgroups: CgroupManager, name: CgroupName, child?: string): Record<string, string> {
  const dir = (controller: string) => (child ? join(cgroups.path(name, controller), child) : cgroups.path(name, controller));
  if (cgroups.version === 2) return { 'cpu.weight': read(dir('cpu'), 'cpu.weight'), 'cpu.max': read(dir('cpu'), 'cpu.max') };
  return { 'cpu.shares': read(dir('cpu'), 'cpu.shares'), 'cpu.cfs_quota_us': read(dir('cpu'), 'cpu.cfs_quota_us') };
}

/** What the kubelet asks for with a cpu request and limit in millicores (period 100 ms). */
function expectedCpu(version: 1 | 2, shares: number, quota: number): Record<string, string> {
  // cgroup v2 weight from shares, as runc converts it.
  const weight = Math.floor(1 + ((shares - 2) * 9999) / 262142);
  return version === 2 ? { 'cpu.weight': String(weight), 'cpu.max': `${quota} 100000` } : { 'cpu.shares': String(shares), 'cpu.cfs_quota_us': String(quota) };
}

/** A client-node model as the JSON it came from (strict deepEqual compares prototypes). */
function plain(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

const BURSTABLE = { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '200m', memory: '64Mi' } };

export const kubeletPodResizeSuite = defineSuite('kubelet/pod-resize', [
  {
    title: 'a cpu increase through pods/resize is applied to the running container in place: UpdateContainerResources, restartCount 0, new cgroup settings and status',
    timeoutMs: 90_000,
    divergence: { fake: 'the fake runtime makes no container cgroups: only the pod cgroup (a stand-in tree) and the runtime-reported settings are checked' },
    run: async (ctx: SpecContext) => {
      const { agent, cgroups, name, running, id } = await runningPodWithCgroups(ctx, 'kh-resize', BURSTABLE);
      const podCgroup = ['kubepods', 'burstable', `pod${running.metadata!.uid!}`];
      const before = await agent.kubelet.cri.containerStatus({ containerId: id, verbose: false });
      ctx.log(`runtime-reported resources before: ${JSON.stringify(before.status?.resources?.linux ?? null)}`);
      assert.ok(before.status?.resources?.linux, 'the runtime reports the container resources it applied (ContainerStatus.resources)');
      assert.deepEqual(cpuSettings(cgroups, podCgroup), expectedCpu(cgroups.version, 102, 20_000), 'pod cgroup before the resize');

      await agent.core.patchNamespacedPodResize({
        name,
        namespace: agent.namespace,
        body: [
          { op: 'replace', path: '/spec/containers/0/resources/requests/cpu', value: '300m' },
          { op: 'replace', path: '/spec/containers/0/resources/limits/cpu', value: '500m' },
        ],
      });
      const resized = await waitForPod(ctx, agent, name, 'resize applied', (p) => {
        const cs = p.status?.containerStatuses?.[0];
        return cs?.resources?.limits?.['cpu'] === '500m' && !(p.status?.conditions ?? []).some((c) => c.type === 'PodResizeInProgress');
      });
      const cs = resized.status!.containerStatuses![0]!;
      assert.equal(cs.restartCount, 0, 'no restart');
      assert.equal(containerIdOf(resized), id, 'the same container');
      assert.deepEqual(plain(cs.resources), { requests: { cpu: '300m', memory: '32Mi' }, limits: { cpu: '500m', memory: '64Mi' } });
      assert.deepEqual(plain(cs.allocatedResources), { cpu: '300m', memory: '32Mi' });

      const updates = agentCalls(agent, 'UpdateContainerResources').filter((e) => (e.request as { containerId?: string }).containerId === id);
      assert.equal(updates.length, 1, 'one UpdateContainerResources for the container');
      const after = await agent.kubelet.cri.containerStatus({ containerId: id, verbose: false });
      const linux = after.status?.resources?.linux;
      ctx.log(`runtime-reported resources after: ${JSON.stringify(linux ?? null)}`);
      assert.deepEqual([Number(linux?.cpuShares), Number(linux?.cpuQuota)], [307, 50_000], 'the runtime reports the new cpu settings');

      const podSeen = cpuSettings(cgroups, podCgroup);
      ctx.log(`pod cgroup after: ${JSON.stringify(podSeen)}`);
      assert.deepEqual(podSeen, expectedCpu(cgroups.version, 307, 50_000), 'the pod cgroup follows the new request and limit');
      if (ctx.target.kind !== 'fake') {
        const ctrSeen = cpuSettings(cgroups, podCgroup, id);
        ctx.log(`container cgroup after: ${JSON.stringify(ctrSeen)}`);
        assert.deepEqual(ctrSeen, expectedCpu(cgroups.version, 307, 50_000), "the container's cgroup carries the new settings");
      }
    },
  },
  {
    title: 'a memory limit raised through pods/resize is applied in place (resizePolicy NotRequired), and the container keeps running',
    timeoutMs: 90_000,
    divergence: { fake: 'the fake runtime makes no container cgroups: only the runtime-reported limit is checked' },
    run: async (ctx: SpecContext) => {
      const { agent, cgroups, name, id } = await runningPodWithCgroups(ctx, 'kh-resize-mem', BURSTABLE);
      await agent.core.patchNamespacedPodResize({
        name,
        namespace: agent.namespace,
        body: [{ op: 'replace', path: '/spec/containers/0/resources/limits/memory', value: '128Mi' }],
      });
      const resized = await waitForPod(ctx, agent, name, 'memory resize applied or failed', (p) => {
        const cs = p.status?.containerStatuses?.[0];
        const progress = (p.status?.conditions ?? []).find((c) => c.type === 'PodResizeInProgress');
        return (cs?.resources?.limits?.['memory'] === '128Mi' && progress === undefined) || progress?.reason === 'Error';
      });
      const progress = (resized.status?.conditions ?? []).find((c) => c.type === 'PodResizeInProgress');
      assert.equal(progress, undefined, `no resize error (${progress?.message ?? ''})`);
      const cs = resized.status!.containerStatuses![0]!;
      assert.equal(cs.restartCount, 0, 'no restart');
      assert.equal(containerIdOf(resized), id, 'the same container');
      const linux = (await agent.kubelet.cri.containerStatus({ containerId: id, verbose: false })).status?.resources?.linux;
      ctx.log(`runtime-reported resources after: ${JSON.stringify(linux ?? null)}`);
      assert.equal(Number(linux?.memoryLimitInBytes), 128 * MiB, 'the runtime reports the new memory limit');
      if (ctx.target.kind !== 'fake') {
        const dir = join(cgroups.path(['kubepods', 'burstable', `pod${resized.metadata!.uid!}`], 'memory'), id);
        const seen = cgroups.version === 2 ? read(dir, 'memory.max') : read(dir, 'memory.limit_in_bytes');
        ctx.log(`container memory limit after: ${seen}`);
        assert.equal(seen, String(128 * MiB), "the container's cgroup carries the new memory limit");
      }
    },
  },
]);

const MiB = 1024 * 1024;
