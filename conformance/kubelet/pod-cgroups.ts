import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupManager, CgroupName } from '../../agent/cm/cgroup-manager.js';
import { eventually } from '../cri/support.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { agentCalls, runningPodWithCgroups, waitForPodGone } from './support.js';

/**
 * The kubelet's pod cgroups as the host shows them (upstream pod_container_manager / ResourceConfigForPod):
 * a Burstable pod whose containers all declare limits gets kubepods/burstable/pod<uid> with its cpu shares,
 * CFS quota and period, memory limit and the node's podPidsLimit; the runtime nests the pod's containers
 * in it (the sandbox's cgroup_parent names it); after the pod is deleted the cgroup is gone everywhere.
 */

const PIDS_LIMIT = 77;
const MiB = 1024 * 1024;

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** The settings files of one cgroup, by version, as "file=value" lines for the report. */
function settings(cgroups: CgroupManager, name: CgroupName): Record<string, string> {
  if (cgroups.version === 2) {
    const dir = cgroups.path(name);
    return Object.fromEntries(['cpu.weight', 'cpu.max', 'memory.max', 'pids.max'].map((f) => [f, read(dir, f)]));
  }
  return {
    'cpu.shares': read(cgroups.path(name, 'cpu'), 'cpu.shares'),
    'cpu.cfs_quota_us': read(cgroups.path(name, 'cpu'), 'cpu.cfs_quota_us'),
    'cpu.cfs_period_us': read(cgroups.path(name, 'cpu'), 'cpu.cfs_period_us'),
    'memory.limit_in_bytes': read(cgroups.path(name, 'memory'), 'memory.limit_in_bytes'),
    'pids.max': read(cgroups.path(name, 'pids'), 'pids.max'),
  };
}

export const kubeletPodCgroupsSuite = defineSuite('kubelet/pod-cgroups', [
  {
    title: 'a Burstable pod runs in its own cgroup under kubepods/burstable with its cpu, memory and pids settings, removed after the pod is deleted',
    timeoutMs: 90_000,
    divergence: { fake: 'the fake runtime makes no cgroups: the agent writes a stand-in tree in the spec directory and no container cgroups appear in it' },
    run: async (ctx: SpecContext) => {
      const burstable = { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } };
      const { agent, cgroups, name, running } = await runningPodWithCgroups(ctx, 'kh-cgroup', burstable, { podPidsLimit: PIDS_LIMIT });
      assert.equal(running.status?.qosClass, 'Burstable');
      const uid = running.metadata!.uid!;
      const podCgroup = ['kubepods', 'burstable', `pod${uid}`];

      const sandbox = agentCalls(agent, 'RunPodSandbox')[0];
      const parent = (sandbox?.request as { config?: { linux?: { cgroupParent?: string } } } | undefined)?.config?.linux?.cgroupParent;
      assert.equal(parent, `/${podCgroup.join('/')}`, 'the sandbox cgroup_parent names the pod cgroup');

      const seen = settings(cgroups, podCgroup);
      ctx.log(`host ${cgroups.path(podCgroup, 'pids')}: ${JSON.stringify(seen)}`);
      const expected =
        cgroups.version === 2
          ? { 'cpu.weight': '4', 'cpu.max': '20000 100000', 'memory.max': String(64 * MiB), 'pids.max': String(PIDS_LIMIT) }
          : { 'cpu.shares': '102', 'cpu.cfs_quota_us': '20000', 'cpu.cfs_period_us': '100000', 'memory.limit_in_bytes': String(64 * MiB), 'pids.max': String(PIDS_LIMIT) };
      assert.deepEqual(seen, expected, 'the pod cgroup carries the pod-level settings');

      if (ctx.target.kind !== 'fake') {
        // The runtime put the pod's sandbox and container in it: <pod cgroup>/<id> (cgroupfs driver).
        const sandboxId = (sandbox!.response as { podSandboxId: string }).podSandboxId;
        const appId = running.status?.containerStatuses?.[0]?.containerID?.replace(/^[a-z]+:\/\//, '') ?? '';
        const children = readdirSync(cgroups.path(podCgroup, 'pids'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
        ctx.log(`children of the pod cgroup: ${children.map((c) => c.slice(0, 12)).join(', ')}`);
        assert.ok(children.includes(sandboxId) && children.includes(appId), `sandbox ${sandboxId.slice(0, 12)} and app ${appId.slice(0, 12)} nested in the pod cgroup`);
        const processes = read(join(cgroups.path(podCgroup, 'pids'), appId), 'cgroup.procs');
        assert.ok(processes !== '', 'the app container process is in the pod cgroup');
      }

      await agent.core.deleteNamespacedPod({ name, namespace: agent.namespace });
      await waitForPodGone(ctx, agent, name);
      const left = await eventually(
        ctx,
        'the pod cgroup removed from every hierarchy',
        async () => {
          const still = cgroups.paths(podCgroup).filter((p) => existsSync(p));
          return still.length === 0 ? still : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100 },
      );
      ctx.log(`after deletion: ${cgroups.paths(podCgroup).length} hierarchy directories checked, ${left.length} left`);
    },
  },
]);
