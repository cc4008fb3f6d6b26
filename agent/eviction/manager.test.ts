import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { createKubeletMetrics } from '../metrics/kubelet-metrics.js';
import { runContainer, startFakeRuntime, type FakeRuntimeFixture, type RunningContainer } from '../prober/handlers/test-fixtures.js';
import type { EvictionMachineInfo } from './cri-stats-summary.js';
import { EvictionManager, type EvictionKill, type EvictionManagerOptions } from './manager.js';
import type { PressureCondition } from './signals.js';
import { parseEvictionThresholds } from './thresholds.js';
import { parseQuantity } from '../resources/quantity.js';

/**
 * The eviction manager on a virtual clock against the fake CRI, whose containers report the memory
 * their FAKE_MEMORY_SCHEDULE says. The machine is declared: 2 GiB of memory, 200 MiB used outside pods.
 */

const Mi = 1024n * 1024n;
const Gi = 1024n * Mi;

let fixture: FakeRuntimeFixture | undefined;
let manager: EvictionManager | undefined;
afterEach(async () => {
  manager?.stop();
  await fixture?.close();
  fixture = undefined;
  manager = undefined;
});

interface RunningPod {
  readonly pod: V1Pod;
  readonly container: RunningContainer;
}

function podSpec(name: string, opts: { requestMemory?: string; priority?: number; annotations?: Record<string, string>; ephemeralLimit?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name,
          image: 'busybox',
          resources: {
            ...(opts.requestMemory ? { requests: { memory: opts.requestMemory } } : {}),
            ...(opts.ephemeralLimit ? { limits: { 'ephemeral-storage': opts.ephemeralLimit } } : {}),
          },
        },
      ],
    },
  };
}

async function setup(pods: Array<{ pod: V1Pod; memory: string; disk?: string }>, machine: EvictionMachineInfo, options: { thresholds?: Partial<Parameters<typeof parseEvictionThresholds>[0]>; extra?: Partial<EvictionManagerOptions> } = {}) {
  const clock = new VirtualClock();
  fixture = await startFakeRuntime(clock);
  const running: RunningPod[] = [];
  for (const { pod, memory, disk } of pods) {
    const name = pod.metadata!.name!;
    const env = { FAKE_MEMORY_SCHEDULE: memory, ...(disk ? { FAKE_DISK_SCHEDULE: disk } : {}) };
    const container = await runContainer(fixture, { pod: name, uid: pod.metadata!.uid!, name, command: ['sleep', '3600'], env });
    running.push({ pod, container });
  }
  const active = new Set(running.map((r) => r.pod));
  const kills: Array<{ t: number; pod: string; kill: EvictionKill }> = [];
  const conditionChanges: Array<{ t: number; conditions: readonly PressureCondition[] }> = [];
  const metrics = createKubeletMetrics();
  const recorder = new MemoryEventRecorder();
  const f = fixture;
  manager = new EvictionManager({
    clock,
    cri: f.cri,
    machine: () => machine,
    thresholds: parseEvictionThresholds({ evictionHard: { 'memory.available': '100Mi' }, enforceNodeAllocatable: [], ...options.thresholds }),
    activePods: () => [...active],
    killPod: async (pod, kill) => {
      kills.push({ t: clock.monotonic() / 1000, pod: pod.metadata!.name!, kill });
      const r = running.find((x) => x.pod === pod)!;
      await f.cri.stopPodSandbox({ podSandboxId: r.container.podSandboxId });
      active.delete(pod);
    },
    metrics,
    recorder,
    nodeName: 'node-a',
    ...options.extra,
  });
  manager.onNodeConditionsChange((c) => conditionChanges.push({ t: clock.monotonic() / 1000, conditions: c }));
  const m = manager;
  const step = (ms: number): Promise<void> => clock.advanceSettling(ms, () => m.idle());
  return { clock, manager: m, kills, conditionChanges, metrics, recorder, step };
}

const machine: EvictionMachineInfo = {
  memoryCapacityBytes: 2n * Gi,
  systemMemoryWorkingSetBytes: 200n * Mi,
  nodefs: { capacityBytes: 100n * Gi, inodes: 1_000_000n },
  maxPid: 4_194_304,
};

describe('the eviction manager', () => {
  it('reports MemoryPressure when memory.available crosses the hard threshold, evicts the pod most over its request, and holds the condition for the transition period', async () => {
    const h = await setup(
      [
        { pod: podSpec('steady', { requestMemory: '200Mi' }), memory: '100Mi' },
        { pod: podSpec('hog', { requestMemory: '100Mi' }), memory: '50Mi for 20s then 1400Mi' },
        { pod: podSpec('noisy'), memory: '300Mi' },
      ],
      machine,
    );
    h.manager.start();
    await h.manager.idle();
    expect(h.manager.nodeConditions()).toEqual([]);
    await h.step(15_000);
    expect(h.kills).toEqual([]);
    expect(h.manager.admit(podSpec('besteffort'))).toEqual({ admit: true });

    await h.step(5_000); // the round at t = 20 s sees 200 + 100 + 1400 + 300 MiB in use
    expect(h.manager.nodeConditions()).toEqual(['MemoryPressure']);
    expect(h.kills).toHaveLength(1);
    const [kill] = h.kills;
    expect(kill!.t).toBe(20);
    expect(kill!.pod).toBe('hog');
    const message =
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 48Mi. Container hog was using 1400Mi, request is 100Mi, has larger consumption of memory. ';
    expect(kill!.kill).toEqual({
      gracePeriodOverrideSeconds: 1,
      status: {
        phase: 'Failed',
        reason: 'Evicted',
        message,
        conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message }],
      },
    });
    expect(h.recorder.events.map((e) => [e.ref.kind, e.reason, e.message])).toEqual([
      ['Node', 'EvictionThresholdMet', 'Attempting to reclaim memory'],
      ['Pod', 'Evicted', message],
    ]);
    // The Evicted event names the offenders in its annotations, as upstream's AnnotatedEventf does.
    expect(h.recorder.events[1]!.annotations).toEqual({ offending_containers: 'hog', offending_containers_usage: '1400Mi', starved_resource: 'memory' });
    const evictions = await h.metrics.evictions.get();
    expect(evictions.values).toEqual([{ labels: { eviction_signal: 'memory.available' }, value: 1 }]);

    // Admission under memory pressure only: BestEffort pods are turned away, others admitted.
    expect(h.manager.admit(podSpec('besteffort'))).toEqual({ admit: false, reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    expect(h.manager.admit(podSpec('burstable', { requestMemory: '10Mi' }))).toEqual({ admit: true });

    // Memory is back (200 + 100 + 300 MiB), but the condition stays for evictionPressureTransitionPeriod (5 min).
    await h.step(290_000);
    expect(h.kills).toHaveLength(1);
    expect(h.manager.nodeConditions()).toEqual(['MemoryPressure']);
    await h.step(20_000);
    expect(h.manager.nodeConditions()).toEqual([]);
    expect(h.conditionChanges).toEqual([
      { t: 20, conditions: ['MemoryPressure'] },
      { t: 320, conditions: [] },
    ]);
  });

  it('never evicts a critical pod: the next ranked pod goes instead', async () => {
    const h = await setup(
      [
        { pod: podSpec('node-critical', { priority: 2_000_001_000 }), memory: '1500Mi' },
        { pod: podSpec('static', { annotations: { 'kubernetes.io/config.source': 'file' } }), memory: '200Mi' },
        { pod: podSpec('ordinary', { requestMemory: '10Mi' }), memory: '100Mi' },
      ],
      machine,
    );
    h.manager.start();
    await h.manager.idle();
    expect(h.kills.map((k) => k.pod)).toEqual(['ordinary']);
    expect(h.kills[0]!.kill.status.message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 48Mi. Container ordinary was using 100Mi, request is 10Mi, has larger consumption of memory. ',
    );
  });

  it('waits for a soft threshold grace period and gives the pod evictionMaxPodGracePeriod, capped at its own', async () => {
    // 1 GiB − 200 MiB − 700 MiB leaves 124 MiB: under the soft 200Mi threshold, which has 30 s of grace.
    const h = await setup([{ pod: podSpec('soft', { requestMemory: '10Mi' }), memory: '700Mi' }], { ...machine, memoryCapacityBytes: 1n * Gi }, {
      thresholds: { evictionHard: {}, evictionSoft: { 'memory.available': '200Mi' }, evictionSoftGracePeriod: { 'memory.available': '30s' } },
      extra: { maxPodGracePeriodSeconds: 60 },
    });
    h.manager.start();
    await h.manager.idle();
    expect(h.manager.nodeConditions()).toEqual(['MemoryPressure']);
    await h.step(25_000);
    expect(h.kills).toEqual([]);
    await h.step(10_000);
    expect(h.kills.map((k) => [k.t, k.pod, k.kill.gracePeriodOverrideSeconds])).toEqual([[30, 'soft', 30]]);
  });

  it('reports DiskPressure from nodefs.available, evicts the largest disk user with the disk message, and then admits no pod', async () => {
    const disk: EvictionMachineInfo = { ...machine, nodefs: { capacityBytes: 10n * Gi, usedBytes: 8n * Gi, inodes: 1_000_000n } };
    const h = await setup(
      [
        { pod: podSpec('writer'), memory: '10Mi', disk: '1Mi for 15s then 1500Mi' },
        { pod: podSpec('reader'), memory: '10Mi', disk: '5Mi' },
      ],
      disk,
      { thresholds: { evictionHard: { 'nodefs.available': '1Gi' } } },
    );
    const first = await h.manager.synchronize();
    expect(first.nodeConditions).toEqual([]);
    await h.clock.advance(20_000);
    const report = await h.manager.synchronize();
    expect(report.nodeConditions).toEqual(['DiskPressure']);
    expect(h.manager.isUnderDiskPressure()).toBe(true);
    const available = String(report.observations['nodefs.available']!.available);
    expect(report.evicted.map((e) => [e.pod.metadata!.name, e.signal, e.gracePeriodOverrideSeconds])).toEqual([['writer', 'nodefs.available', 1]]);
    // The writable layer is the scripted 1500Mi plus the few files the container wrote itself.
    expect(report.evicted[0]!.message).toMatch(
      new RegExp(
        `^The node was low on resource: ephemeral-storage\\. Threshold quantity: 1Gi, available: ${available}\\. Container writer was using (\\d+), request is 0, has larger consumption of ephemeral-storage\\. $`,
      ),
    );
    const usedBytes = Number(/was using (\d+),/.exec(report.evicted[0]!.message)![1]);
    expect(usedBytes).toBeGreaterThan(1500 * 1024 * 1024);
    expect(usedBytes).toBeLessThan(1501 * 1024 * 1024);
    expect(h.manager.admit(podSpec('guaranteed', { requestMemory: '10Mi' }))).toEqual({ admit: false, reason: 'Evicted', message: 'The node had condition: [DiskPressure]. ' });
    expect(h.manager.admit(podSpec('critical', { priority: 2_000_000_000 }))).toEqual({ admit: true });
  });

  it('evicts a pod over its ephemeral-storage limit before looking at thresholds, with a 1 s grace period and no DisruptionTarget', async () => {
    const h = await setup(
      [
        { pod: podSpec('bounded', { ephemeralLimit: '1Mi' }), memory: '10Mi', disk: '100Ki for 15s then 2Mi' },
        { pod: podSpec('unbounded'), memory: '10Mi', disk: '50Mi' },
      ],
      machine,
    );
    expect((await h.manager.synchronize()).evicted).toEqual([]);
    await h.clock.advance(20_000);
    const report = await h.manager.synchronize();
    const message = 'Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ';
    expect(report.evicted.map((e) => [e.pod.metadata!.name, e.signal, e.message])).toEqual([['bounded', 'ephemeralpodfs.limit', message]]);
    expect(h.kills.map((k) => k.kill)).toEqual([{ gracePeriodOverrideSeconds: 1, status: { phase: 'Failed', reason: 'Evicted', message } }]);
    expect((await h.metrics.evictions.get()).values).toEqual([{ labels: { eviction_signal: 'ephemeralpodfs.limit' }, value: 1 }]);
    expect(report.nodeConditions).toEqual([]);
    expect(h.recorder.events.map((e) => [e.reason, e.annotations])).toEqual([['Evicted', undefined]]);
  });

  it('evicts for an emptyDir over its sizeLimit and counts measured log bytes against the ephemeral-storage limit', async () => {
    const withVolume: V1Pod = { ...podSpec('scratch'), spec: { ...podSpec('scratch').spec!, volumes: [{ name: 'data', emptyDir: { sizeLimit: '8Ki' } }] } };
    const chatty = podSpec('chatty', { ephemeralLimit: '1Mi' });
    const quiet = podSpec('quiet', { ephemeralLimit: '1Mi' });
    const measured = new Map([
      ['uid-scratch', { volumes: [{ name: 'data', usedBytes: 20_480n, inodesUsed: 2n }], containerLogs: new Map() }],
      // 900 KiB of writable layer is within 1 MiB; 200 KiB of logs on top is not.
      ['uid-chatty', { volumes: [], containerLogs: new Map([['chatty', { usedBytes: 200n * 1024n, inodesUsed: 2n }]]) }],
    ]);
    const seen: string[][] = [];
    const h = await setup(
      [
        { pod: withVolume, memory: '10Mi' },
        { pod: chatty, memory: '10Mi', disk: '900Ki' },
        { pod: quiet, memory: '10Mi', disk: '900Ki' },
      ],
      machine,
      {
        extra: {
          podDiskUsage: async (pods) => {
            seen.push(pods.map((p) => p.metadata!.name!));
            return measured;
          },
        },
      },
    );
    const report = await h.manager.synchronize();
    expect(seen).toEqual([['scratch', 'chatty', 'quiet']]);
    expect(report.evicted.map((e) => [e.pod.metadata!.name, e.signal, e.message])).toEqual([
      ['scratch', 'emptydirfs.limit', 'Usage of EmptyDir volume "data" exceeds the limit "8Ki". '],
      ['chatty', 'ephemeralpodfs.limit', 'Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. '],
    ]);
    expect((await h.metrics.evictions.get()).values).toEqual([
      { labels: { eviction_signal: 'emptydirfs.limit' }, value: 1 },
      { labels: { eviction_signal: 'ephemeralpodfs.limit' }, value: 1 },
    ]);
  });

  it('runs overlapping synchronize calls one after the other, without needing the clock to move', async () => {
    const h = await setup([{ pod: podSpec('a'), memory: '10Mi' }], machine);
    const statsCalls = () => fixture!.fake.journal.entries((e) => e.source === 'cri' && ['ListPodSandboxStats', 'ListContainerStats', 'ImageFsInfo'].includes(e.name)).map((e) => e.name);
    const [first, second] = await Promise.all([h.manager.synchronize(), h.manager.synchronize()]);
    expect(first.evicted).toEqual([]);
    expect(second.evicted).toEqual([]);
    const calls = statsCalls();
    expect(calls).toHaveLength(6);
    expect(new Set(calls.slice(0, 3)).size).toBe(3);
    expect(new Set(calls.slice(3)).size).toBe(3);
  });

  it('deletes unused images before evicting for nodefs pressure, and evicts nobody when that frees enough', async () => {
    let capacity = 1000n * Gi;
    const dynamic: EvictionMachineInfo = {
      memoryCapacityBytes: 2n * Gi,
      get nodefs() {
        return { capacityBytes: capacity };
      },
    };
    const reclaimed: string[] = [];
    const h = await setup([{ pod: podSpec('user'), memory: '10Mi' }], dynamic, {
      thresholds: { evictionHard: { 'nodefs.available': '1Mi' } },
      extra: {
        nodeReclaim: {
          deleteUnusedContainers: async () => {
            reclaimed.push('containers');
          },
          deleteUnusedImages: async () => {
            reclaimed.push('images');
            await fixture!.cri.removeImage({ image: { image: 'docker.io/library/unused:1' } });
          },
        },
      },
    });
    await fixture!.cri.pullImage({ image: { image: 'docker.io/library/unused:1' } });
    const size = BigInt((await fixture!.cri.imageStatus({ image: { image: 'docker.io/library/unused:1' } })).image!.size);
    expect(size).toBeGreaterThan(0n);
    // Size the disk so that the unused image is what tips it under the threshold.
    const probe = await h.manager.synchronize();
    const used = capacity - parseQuantity(String(probe.observations['nodefs.available']!.available)).value();
    capacity = used + 1n * Mi - size / 2n;

    await h.clock.advance(10_000);
    const report = await h.manager.synchronize();
    expect(report.nodeConditions).toEqual(['DiskPressure']);
    expect(reclaimed).toEqual(['containers', 'images']);
    expect(report.evicted).toEqual([]);
    expect(h.kills).toEqual([]);
    expect((await fixture!.cri.imageStatus({ image: { image: 'docker.io/library/unused:1' } })).image).toBeNull();
  });
});
