import type { V1Pod } from '@kubernetes/client-node';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { CgroupManager } from './cgroup-manager.js';
import { PodContainerManager, QOS_UPDATE_INTERVAL_MS, type ContainerManagerOptions } from './container-manager.js';
import { createStandInCgroupRoot } from './stand-in-root.js';

let dir: string;
beforeEach(() => {
  dir = createStandInCgroupRoot(mkdtempSync(join(tmpdir(), 'cm-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (...parts: string[]): string => readFileSync(join(dir, ...parts), 'utf8');

function pod(uid: string, resources: { requests?: Record<string, string>; limits?: Record<string, string> } = {}): V1Pod {
  return { metadata: { uid, name: uid, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox', resources }] } };
}

async function manager(active: V1Pod[], extra: Partial<ContainerManagerOptions> = {}) {
  const clock = new VirtualClock();
  const recorder = new MemoryEventRecorder();
  const cgroups = await CgroupManager.open({ root: dir, clock });
  const cm = new PodContainerManager({
    cgroups,
    clock,
    recorder,
    nodeName: 'node-1',
    pods: { enforceCpuLimits: true, podPidsLimit: 256 },
    nodeAllocatable: () => ({ capacity: { cpu: '2', memory: '4Gi', pid: '4096' }, kubeReserved: { memory: '1Gi' }, enforceNodeAllocatable: ['pods'] }),
    activePods: () => active,
    ...extra,
  });
  return { cm, clock, recorder };
}

describe('PodContainerManager', () => {
  it('limits kubepods to node allocatable and creates the QoS tiers on start', async () => {
    const { cm, recorder } = await manager([pod('b1', { requests: { cpu: '500m' } })]);
    await cm.start();
    expect(read('memory', 'kubepods', 'memory.limit_in_bytes')).toBe(String(3 * 1024 ** 3));
    expect(read('cpu', 'kubepods', 'cpu.shares')).toBe('2048');
    expect(read('pids', 'kubepods', 'pids.max')).toBe('4096');
    expect(read('cpu', 'kubepods', 'besteffort', 'cpu.shares')).toBe('2');
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('512');
    expect(recorder.events).toContainEqual(expect.objectContaining({ type: 'Normal', reason: 'NodeAllocatableEnforced', message: 'Updated Node Allocatable limit across pods' }));
    cm.stop();
  });

  it('creates a pod cgroup under its QoS tier once, with the pod settings and the pids limit', async () => {
    const burstable = pod('uid-1', { requests: { cpu: '250m', memory: '10Mi' }, limits: { cpu: '500m', memory: '20Mi' } });
    const active = [burstable];
    const { cm } = await manager(active);
    await cm.start();
    await cm.ensurePodCgroup(burstable);
    const dirOf = ['kubepods', 'burstable', 'poduid-1'];
    expect(read('cpu', ...dirOf, 'cpu.shares')).toBe('256');
    expect(read('cpu', ...dirOf, 'cpu.cfs_quota_us')).toBe('50000');
    expect(read('memory', ...dirOf, 'memory.limit_in_bytes')).toBe(String(20 * 1024 ** 2));
    expect(read('pids', ...dirOf, 'pids.max')).toBe('256');
    writeFileSync(join(dir, 'cpu', ...dirOf, 'cpu.shares'), '999');
    await cm.ensurePodCgroup(burstable);
    expect(read('cpu', ...dirOf, 'cpu.shares')).toBe('999');
    const guaranteed = pod('uid-2', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } });
    await cm.ensurePodCgroup(guaranteed);
    expect(read('cpu', 'kubepods', 'poduid-2', 'cpu.shares')).toBe('1024');
    cm.stop();
  });

  it('follows the Burstable pods in the tier shares, on pod creation and every minute', async () => {
    const active: V1Pod[] = [];
    const { cm, clock } = await manager(active);
    await cm.start();
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('2');
    const first = pod('a', { requests: { cpu: '1' } });
    active.push(first);
    await cm.ensurePodCgroup(first);
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('1024');
    active.push(pod('b', { requests: { cpu: '1' } }));
    await clock.advance(QOS_UPDATE_INTERVAL_MS - 1);
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('1024');
    await clock.advance(1);
    await vi.waitFor(() => expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('2048'));
    active.splice(0);
    expect(await cm.destroyPodCgroup(first)).toBe(true);
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('2');
    cm.stop();
  });

  it('leaves a busy pod cgroup for housekeeping, which removes it once empty', async () => {
    const p = pod('busy');
    const { cm } = await manager([]);
    await cm.start();
    await cm.ensurePodCgroup(p);
    const ctr = join(dir, 'memory', 'kubepods', 'besteffort', 'podbusy', 'ctr');
    mkdirSync(ctr);
    writeFileSync(join(ctr, 'cgroup.procs'), '77\n');
    expect(await cm.destroyPodCgroup(p)).toBe(false);
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual([]);
    writeFileSync(join(ctr, 'cgroup.procs'), '');
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual(['busy']);
    expect(existsSync(join(dir, 'memory', 'kubepods', 'besteffort', 'podbusy'))).toBe(false);
    cm.stop();
  });

  it('kills the processes left in an orphaned pod cgroup before removing it, with the injected kill', async () => {
    const killed: number[] = [];
    const ctr = join(dir, 'memory', 'kubepods', 'besteffort', 'podleft', 'ctr');
    const { cm } = await manager([], {
      // As the kernel would: a killed process leaves the cgroup.
      killProcess: (pid) => {
        killed.push(pid);
        writeFileSync(join(ctr, 'cgroup.procs'), '');
      },
    });
    await cm.start();
    await cm.ensurePodCgroup(pod('left'));
    mkdirSync(ctr);
    writeFileSync(join(ctr, 'cgroup.procs'), '77\n');
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual(['left']);
    expect(killed).toEqual([77]);
    expect(existsSync(join(dir, 'memory', 'kubepods', 'besteffort', 'podleft'))).toBe(false);
    cm.stop();
  });

  it('removes orphaned pod cgroups, not those of pods that may still run or whose sandbox the runtime still has', async () => {
    const { cm } = await manager([]);
    await cm.start();
    await cm.ensurePodCgroup(pod('running'));
    await cm.ensurePodCgroup(pod('gone', { requests: { cpu: '1' } }));
    expect([...(await cm.podCgroups()).keys()].sort()).toEqual(['gone', 'running']);
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set(['running']), async () => new Set(['gone']))).toEqual([]);
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set(['running']), async () => new Set())).toEqual(['gone']);
    expect(existsSync(join(dir, 'cpu', 'kubepods', 'besteffort', 'podrunning'))).toBe(true);
    cm.stop();
  });

  it('keeps an orphaned pod cgroup at minimum cpu shares while the pod still has volume directories', async () => {
    const volumes = new Set(['vol']);
    const { cm } = await manager([], { podVolumesExist: (uid) => volumes.has(uid) });
    await cm.start();
    await cm.ensurePodCgroup(pod('vol', { requests: { cpu: '2' } }));
    expect(read('cpu', 'kubepods', 'burstable', 'podvol', 'cpu.shares')).toBe('2048');
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual([]);
    expect(read('cpu', 'kubepods', 'burstable', 'podvol', 'cpu.shares')).toBe('2');
    volumes.clear();
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual(['vol']);
    cm.stop();
  });

  it('on a shared host leaves the kubepods settings and pod cgroups it found alone', async () => {
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids']) mkdirSync(join(dir, h, 'kubepods', 'burstable'), { recursive: true });
    writeFileSync(join(dir, 'memory', 'kubepods', 'memory.limit_in_bytes'), '123');
    writeFileSync(join(dir, 'cpu', 'kubepods', 'burstable', 'cpu.shares'), '777');
    mkdirSync(join(dir, 'cpu', 'kubepods', 'besteffort', 'podforeign'), { recursive: true });
    const active = [pod('mine', { requests: { cpu: '1' } })];
    const { cm, recorder } = await manager(active, { sharedHost: true });
    await cm.start();
    expect(read('memory', 'kubepods', 'memory.limit_in_bytes')).toBe('123');
    expect(recorder.events).toEqual([]);
    await cm.ensurePodCgroup(active[0]!);
    expect(read('cpu', 'kubepods', 'burstable', 'cpu.shares')).toBe('777');
    // besteffort did not exist: made here, so kept here.
    expect(read('cpu', 'kubepods', 'besteffort', 'cpu.shares')).toBe('2');
    active.splice(0);
    expect(await cm.cleanupOrphanedPodCgroups(() => new Set())).toEqual(['mine']);
    expect(existsSync(join(dir, 'cpu', 'kubepods', 'burstable', 'podmine'))).toBe(false);
    expect(existsSync(join(dir, 'cpu', 'kubepods', 'besteffort', 'podforeign'))).toBe(true);
    cm.stop();
  });

  it('removes the kubepods tree it created once empty, and never one it found', async () => {
    const { cm } = await manager([]);
    await cm.start();
    await cm.ensurePodCgroup(pod('p1'));
    expect(await cm.removeQosCgroupsIfCreated()).toBe(false);
    expect(existsSync(join(dir, 'cpu', 'kubepods'))).toBe(true);
    await cm.destroyPodCgroup(pod('p1'));
    expect(await cm.removeQosCgroupsIfCreated()).toBe(true);
    expect(existsSync(join(dir, 'cpu', 'kubepods'))).toBe(false);
    cm.stop();
    const second = await manager([]);
    mkdirSync(join(dir, 'memory', 'kubepods'), { recursive: true });
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'pids']) mkdirSync(join(dir, h, 'kubepods'), { recursive: true });
    await second.cm.start();
    expect(await second.cm.removeQosCgroupsIfCreated()).toBe(false);
    expect(existsSync(join(dir, 'memory', 'kubepods', 'burstable'))).toBe(true);
    second.cm.stop();
  });

  it('reports a failed node allocatable enforcement and retries it a minute later', async () => {
    for (const h of ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids']) mkdirSync(join(dir, h, 'kubepods'), { recursive: true });
    // A directory where the limit file should be: the write fails as a refused limit would.
    mkdirSync(join(dir, 'memory', 'kubepods', 'memory.limit_in_bytes'));
    const { cm, clock, recorder } = await manager([]);
    await cm.start();
    expect(recorder.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'FailedNodeAllocatableEnforcement', message: expect.stringContaining('kubepods') }));
    rmSync(join(dir, 'memory', 'kubepods', 'memory.limit_in_bytes'), { recursive: true });
    await clock.advance(60_000);
    await vi.waitFor(() => expect(recorder.events.filter((e) => e.reason === 'NodeAllocatableEnforced')).toHaveLength(1));
    expect(read('memory', 'kubepods', 'memory.limit_in_bytes')).toBe(String(3 * 1024 ** 3));
    cm.stop();
  });
});
