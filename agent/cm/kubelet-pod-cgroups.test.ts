import type { V1Pod } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { kubeClientsFromString } from '../api/kube-client.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { loadKubeletConfig } from '../config/load.js';
import { createKubeletMetrics } from '../metrics/kubelet-metrics.js';
import { CgroupManager } from './cgroup-manager.js';
import { PodContainerManager } from './container-manager.js';
import { podCgroupHooks, startPodCgroups } from './kubelet-pod-cgroups.js';
import { createStandInCgroupRoot } from './stand-in-root.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

const burstable = (name: string, cpu: string): V1Pod => ({
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [{ name: 'app', image: 'registry.local/app:1.0', resources: { requests: { cpu, memory: '16Mi' }, limits: { cpu: '500m', memory: '32Mi' } } }],
  },
});

describe('the Kubelet on the fakes with a stand-in cgroup root', () => {
  it('creates a Burstable pod cgroup before its sandbox, keeps the tier shares in step and removes the cgroup after deletion', async () => {
    node = await startEmbeddedNode({ configOverrides: { podPidsLimit: 512, kubeReserved: { memory: '1Gi' } } });
    const root = join(node.rootDir, 'cgroupfs');
    const read = (...parts: string[]): string => readFileSync(join(root, ...parts), 'utf8');
    expect(node.kubelet.podCgroups).not.toBeNull();
    // kubepods: 8Gi fake machine − 1Gi kubeReserved (eviction-hard not subtracted), 4 CPUs.
    expect(read('memory', 'kubepods', 'memory.limit_in_bytes')).toBe(String(7 * 1024 ** 3));
    expect(read('cpu', 'kubepods', 'cpu.shares')).toBe('4096');
    expect(read('cpu', 'kubepods', 'besteffort', 'cpu.shares')).toBe('2');

    // At RunPodSandbox the cgroup its cgroup_parent names already holds the pod's settings.
    const atSandbox: string[] = [];
    node.journal.subscribe((e) => {
      if (e.source !== 'cri' || e.name !== 'RunPodSandbox') return;
      const parent = (e.request as { config?: { linux?: { cgroupParent?: string } } }).config?.linux?.cgroupParent ?? '';
      atSandbox.push(`${parent} ${existsSync(join(root, 'pids', parent, 'pids.max')) ? read('pids', parent, 'pids.max') : 'missing'}`);
    });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    const created = await core.createNamespacedPod({ namespace: 'default', body: burstable('cg', '250m') });
    const uid = created.metadata!.uid!;
    const podDir = ['kubepods', 'burstable', `pod${uid}`];
    await vi.waitFor(async () => expect((await core.readNamespacedPod({ name: 'cg', namespace: 'default' })).status?.phase).toBe('Running'), { timeout: 10_000 });
    expect(atSandbox).toEqual([`/kubepods/burstable/pod${uid} 512`]);
    expect(read('cpu', ...podDir, 'cpu.shares')).toBe('256');
    expect(read('cpu', ...podDir, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read('memory', ...podDir, 'memory.limit_in_bytes')).toBe(String(32 * 1024 ** 2));
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('256');

    await core.deleteNamespacedPod({ name: 'cg', namespace: 'default', body: { gracePeriodSeconds: 0 } });
    const hierarchies = ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd'];
    await vi.waitFor(() => expect(hierarchies.filter((h) => existsSync(join(root, h, ...podDir)))).toEqual([]), { timeout: 10_000 });
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('2');
    const text = await node.kubelet.metrics.registry.metrics();
    expect(text).toMatch(/kubelet_cgroup_manager_duration_seconds_count\{operation_type="destroy"\} [1-9]/);
  });

  it('leaves pod cgroups to the runtime under the systemd driver and says so on the node', async () => {
    const recorder = new MemoryEventRecorder();
    const lines: string[] = [];
    const manager = await startPodCgroups({
      config: loadKubeletConfig({}).config,
      cgroupDriver: 'systemd',
      runtimeName: 'containerd',
      cgroupfsRoot: '/nonexistent',
      nodeName: 'n1',
      clock: new VirtualClock(),
      recorder,
      metrics: createKubeletMetrics(),
      capacity: () => ({ cpu: '1', memory: '1Gi' }),
      activePods: () => [],
      log: (m) => lines.push(m),
    });
    expect(manager).toBeNull();
    expect(lines).toEqual([expect.stringMatching(/^pod cgroups not managed: cgroupDriver is systemd: .*left to the runtime/)]);
    expect(recorder.events).toEqual([expect.objectContaining({ type: 'Normal', reason: 'PodCgroupsUnmanaged', ref: expect.objectContaining({ kind: 'Node', name: 'n1' }) })]);
  });

  it('fails the start with what to change when the cgroup root cannot be used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nocg-'));
    try {
      const start = startPodCgroups({
        config: loadKubeletConfig({}).config,
        cgroupDriver: 'cgroupfs',
        runtimeName: 'containerd',
        cgroupfsRoot: dir,
        nodeName: 'n1',
        clock: new VirtualClock(),
        recorder: new MemoryEventRecorder(),
        metrics: createKubeletMetrics(),
        capacity: () => ({ cpu: '1' }),
        activePods: () => [],
        log: () => undefined,
      });
      await expect(start).rejects.toThrow(`pod cgroups under ${dir}: no cgroup v1 hierarchies under ${dir} (to run without pod cgroups set cgroupsPerQOS: false and enforceNodeAllocatable: [])`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a terminated pod cgroup while the runtime still has its sandbox, and reports a failed create on the pod', async () => {
    const dir = createStandInCgroupRoot(mkdtempSync(join(tmpdir(), 'hooks-')));
    try {
      const clock = new VirtualClock();
      const recorder = new MemoryEventRecorder();
      const manager = new PodContainerManager({
        cgroups: await CgroupManager.open({ root: dir, clock }),
        clock,
        recorder,
        nodeName: 'n1',
        pods: { enforceCpuLimits: true, podPidsLimit: -1 },
        nodeAllocatable: () => ({ capacity: { cpu: '1' }, enforceNodeAllocatable: ['pods'] }),
        activePods: () => [],
      });
      await manager.start();
      let sandboxes = 1;
      const cri = { listPodSandbox: async () => ({ items: Array.from({ length: sandboxes }, () => ({ labels: { 'io.kubernetes.pod.uid': 'u1' } })) }) };
      const lines: string[] = [];
      const hooks = podCgroupHooks(() => manager, cri as never, recorder, (m) => lines.push(m));
      const p: V1Pod = { metadata: { uid: 'u1', name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
      await hooks.ensure(p);
      const podDir = join(dir, 'cpu', 'kubepods', 'besteffort', 'podu1');
      expect(existsSync(podDir)).toBe(true);
      await hooks.destroy(p);
      expect(existsSync(podDir)).toBe(true);
      expect(lines).toEqual(['pod u1 still has 1 sandbox(es): its cgroup is left for housekeeping']);
      sandboxes = 0;
      await hooks.destroy(p);
      expect(existsSync(podDir)).toBe(false);

      const bad: V1Pod = { metadata: { uid: 'u2', name: 'bad', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '1' }, limits: { cpu: 'x' } } }] } };
      await expect(hooks.ensure(bad)).rejects.toThrow(/failed to ensure that the pod: u2 cgroups exist/);
      expect(recorder.events.at(-1)).toMatchObject({ type: 'Warning', reason: 'FailedToCreatePodContainer', ref: { kind: 'Pod', name: 'bad' } });
      manager.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
