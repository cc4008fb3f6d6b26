import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import { createKubeletMetrics } from '../metrics/kubelet-metrics.js';
import { CgroupBusyError, CgroupManager } from './cgroup-manager.js';
import { createStandInCgroupRoot } from './stand-in-root.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cgm-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const read = (...parts: string[]): string => readFileSync(join(dir, ...parts), 'utf8');
const POD = ['kubepods', 'burstable', 'podabc'];

async function v1(): Promise<CgroupManager> {
  createStandInCgroupRoot(dir);
  return CgroupManager.open({ root: dir, clock: new VirtualClock() });
}

describe('CgroupManager on a v1 layout', () => {
  it('creates the cgroup in every hierarchy and writes each setting in its own', async () => {
    const m = await v1();
    expect(m.version).toBe(1);
    await m.create(POD, { cpuShares: 102, cpuQuota: 20_000, cpuPeriod: 100_000, memoryLimitBytes: 64n << 20n, pidsLimit: 100 });
    for (const h of ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'pids', 'systemd']) {
      expect(existsSync(join(dir, h, ...POD)), h).toBe(true);
    }
    expect(read('cpu', ...POD, 'cpu.shares')).toBe('102');
    expect(read('cpu', ...POD, 'cpu.cfs_quota_us')).toBe('20000');
    expect(read('cpu', ...POD, 'cpu.cfs_period_us')).toBe('100000');
    expect(read('memory', ...POD, 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read('pids', ...POD, 'pids.max')).toBe('100');
    expect(existsSync(join(dir, 'memory', ...POD, 'cpu.shares'))).toBe(false);
    expect(await m.exists(POD)).toBe(true);
  });

  it('gives every new cpuset level the parent CPUs and memory nodes', async () => {
    const m = await v1();
    await m.create(POD, {});
    expect(read('cpuset', 'kubepods', 'cpuset.cpus')).toBe('0-1');
    expect(read('cpuset', ...POD, 'cpuset.mems')).toBe('0');
  });

  it('does not count a cgroup missing from a required hierarchy as existing', async () => {
    const m = await v1();
    await m.create(POD, {});
    rmSync(join(dir, 'pids', ...POD), { recursive: true });
    expect(await m.exists(POD)).toBe(false);
  });

  it('removes the cgroup and its empty children everywhere, and times each operation', async () => {
    createStandInCgroupRoot(dir);
    const metrics = createKubeletMetrics();
    const m = await CgroupManager.open({ root: dir, clock: new VirtualClock(), metrics });
    await m.create(POD, { cpuShares: 2 });
    await m.update(POD, { cpuShares: 4 });
    mkdirSync(join(dir, 'cpu', ...POD, 'container1'));
    await m.destroy(POD);
    expect(existsSync(join(dir, 'cpu', ...POD))).toBe(false);
    expect(existsSync(join(dir, 'memory', 'kubepods', 'burstable'))).toBe(true);
    expect(await m.exists(POD)).toBe(false);
    await m.destroy(POD); // already gone: fine
    const text = await metrics.registry.metrics();
    for (const op of ['create', 'update', 'destroy']) {
      expect(text).toContain(`kubelet_cgroup_manager_duration_seconds_count{operation_type="${op}"} ${op === 'destroy' ? 2 : 1}`);
    }
  });

  it('removes nothing while a process is in the cgroup in any hierarchy, and all of it once there is none', async () => {
    const m = await v1();
    await m.create(POD, {});
    mkdirSync(join(dir, 'memory', ...POD, 'ctr'));
    writeFileSync(join(dir, 'memory', ...POD, 'ctr', 'cgroup.procs'), '4242\n');
    const err = await m.destroy(POD).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CgroupBusyError);
    expect((err as CgroupBusyError).paths).toEqual([join(dir, 'memory', ...POD, 'ctr')]);
    // Nothing removed anywhere: a runtime would read a half-removed cgroup as deleted.
    expect(existsSync(join(dir, 'cpu', ...POD))).toBe(true);
    writeFileSync(join(dir, 'memory', ...POD, 'ctr', 'cgroup.procs'), '');
    await m.destroy(POD);
    expect(existsSync(join(dir, 'memory', ...POD))).toBe(false);
  });

  it('lists child cgroups found in any hierarchy', async () => {
    const m = await v1();
    await m.create(['kubepods', 'besteffort', 'pod1'], {});
    mkdirSync(join(dir, 'pids', 'kubepods', 'besteffort', 'pod2'), { recursive: true });
    expect(await m.children(['kubepods', 'besteffort'])).toEqual(['pod1', 'pod2']);
    expect(await m.children(['nowhere'])).toEqual([]);
  });

  it('names the hierarchy when a setting needs one that is not mounted', async () => {
    mkdirSync(join(dir, 'cpu'));
    const m = await CgroupManager.open({ root: dir, clock: new VirtualClock() });
    await expect(m.create(POD, { pidsLimit: 5 })).rejects.toThrow(/hierarchy "pids" is not mounted/);
  });

  it('rejects a root that does not exist', async () => {
    await expect(CgroupManager.open({ root: join(dir, 'missing'), clock: new VirtualClock() })).rejects.toThrow(/is not a directory/);
  });
});

describe('CgroupManager on a v2 layout', () => {
  it('delegates the needed controllers down the tree and writes the v2 files', async () => {
    writeFileSync(join(dir, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    const m = await CgroupManager.open({ root: dir, clock: new VirtualClock() });
    expect(m.version).toBe(2);
    await m.create(POD, { cpuShares: 1024, cpuQuota: 50_000, cpuPeriod: 100_000, memoryLimitBytes: 1n << 30n, pidsLimit: 7 });
    expect(read('cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read('kubepods', 'burstable', 'cgroup.subtree_control')).toBe('+cpu +memory +pids');
    expect(read(...POD, 'cpu.weight')).toBe('39');
    expect(read(...POD, 'cpu.max')).toBe('50000 100000');
    expect(read(...POD, 'memory.max')).toBe(String(1 << 30));
    expect(read(...POD, 'pids.max')).toBe('7');
    await m.destroy(POD);
    expect(existsSync(join(dir, ...POD))).toBe(false);
  });
});
