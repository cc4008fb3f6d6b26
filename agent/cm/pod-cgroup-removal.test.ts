import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realClock } from '../clock/real-clock.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { CgroupManager } from './cgroup-manager.js';
import { sigkill } from './cgroup-processes.js';
import { removePodCgroup } from './pod-cgroup-removal.js';
import { createStandInCgroupRoot } from './stand-in-root.js';

const POD = ['kubepods', 'besteffort', 'podleft'];

describe('removing a pod cgroup with processes left in it (stand-in tree)', () => {
  let dir: string;
  beforeEach(() => {
    dir = createStandInCgroupRoot(mkdtempSync(join(tmpdir(), 'pcr-')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A pod cgroup with PIDs 41 and 42 in a container cgroup and 42 in the pod cgroup too (another hierarchy). */
  async function occupied(clock = new VirtualClock()) {
    const cgroups = await CgroupManager.open({ root: dir, clock });
    await cgroups.create(POD, {});
    mkdirSync(join(dir, 'memory', ...POD, 'ctr'));
    writeFileSync(join(dir, 'memory', ...POD, 'ctr', 'cgroup.procs'), '41\n42\n');
    writeFileSync(join(dir, 'pids', ...POD, 'cgroup.procs'), '42\n');
    /** What the kernel does when a process exits: it leaves every cgroup. */
    const exit = (pid: number): void => {
      for (const file of [join(dir, 'memory', ...POD, 'ctr', 'cgroup.procs'), join(dir, 'pids', ...POD, 'cgroup.procs')]) {
        const left = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && l !== String(pid));
        writeFileSync(file, left.map((l) => `${l}\n`).join(''));
      }
    };
    return { cgroups, clock, exit };
  }

  it('lists each PID once across the pod cgroup, its container cgroups and all hierarchies', async () => {
    const { cgroups } = await occupied();
    expect(await cgroups.pids(POD)).toEqual([41, 42]);
    expect(await cgroups.pids(['kubepods', 'besteffort', 'podnone'])).toEqual([]);
  });

  it('kills every leftover process once, then removes the cgroup everywhere', async () => {
    const { cgroups, clock, exit } = await occupied();
    const killed: number[] = [];
    const logs: string[] = [];
    const removed = await removePodCgroup(POD, { cgroups, clock, kill: (pid) => (killed.push(pid), exit(pid)), log: (m) => logs.push(m) });
    expect(removed).toBe(true);
    expect(killed).toEqual([41, 42]);
    for (const h of ['memory', 'pids', 'cpu']) expect(existsSync(join(dir, h, ...POD)), h).toBe(false);
    expect(logs).toEqual(['killed 2 process(es) left in pod cgroup kubepods/besteffort/podleft: 41, 42']);
  });

  it('retries the removal on the clock (10 ms, doubling) while killed processes have not exited yet', async () => {
    const virtual = new VirtualClock();
    const { cgroups, exit } = await occupied(virtual);
    const killed: number[] = [];
    const sleeps: number[] = [];
    // The kernel reaps the killed processes during the second wait: removal is refused twice, then succeeds.
    const clock = Object.assign(Object.create(virtual) as VirtualClock, {
      sleep: async (ms: number) => {
        sleeps.push(ms);
        if (sleeps.length === 2) for (const pid of killed) exit(pid);
      },
    });
    const removed = await removePodCgroup(POD, { cgroups, clock, kill: (pid) => void killed.push(pid), log: () => undefined });
    expect(removed).toBe(true);
    expect(sleeps).toEqual([10, 20]);
    expect(existsSync(join(dir, 'memory', ...POD))).toBe(false);
  });

  it('gives up on a cgroup still busy after five removals, leaving it for housekeeping', async () => {
    const virtual = new VirtualClock();
    const { cgroups } = await occupied(virtual);
    const sleeps: number[] = [];
    const clock = Object.assign(Object.create(virtual) as VirtualClock, { sleep: async (ms: number) => void sleeps.push(ms) });
    const logs: string[] = [];
    expect(await removePodCgroup(POD, { cgroups, clock, kill: () => undefined, log: (m) => logs.push(m) })).toBe(false);
    expect(sleeps).toEqual([10, 20, 40, 80]);
    expect(existsSync(join(dir, 'cpu', ...POD))).toBe(true);
    expect(logs.at(-1)).toMatch(/not removed yet: cgroup still in use/);
  });

  it('removes nothing when a process cannot be killed, trying it five times', async () => {
    const { cgroups, clock } = await occupied();
    const attempts: number[] = [];
    const logs: string[] = [];
    const removed = await removePodCgroup(POD, {
      cgroups,
      clock,
      kill: (pid) => {
        attempts.push(pid);
        if (pid === 42) throw new Error('EPERM');
      },
      log: (m) => logs.push(m),
    });
    expect(removed).toBe(false);
    expect(attempts).toEqual([41, 42, 42, 42, 42, 42]);
    expect(existsSync(join(dir, 'cpu', ...POD))).toBe(true);
    expect(logs).toEqual(['failed to kill all the processes attached to pod cgroup kubepods/besteffort/podleft: killing pid 42: EPERM']);
  });

  it('without a kill function leaves a busy cgroup as it is, at once', async () => {
    const { cgroups, clock } = await occupied();
    const logs: string[] = [];
    expect(await removePodCgroup(POD, { cgroups, clock, kill: null, log: (m) => logs.push(m) })).toBe(false);
    expect(clock.monotonic()).toBe(0);
    expect(logs[0]).toMatch(/^pod cgroup kubepods\/besteffort\/podleft not removed yet: cgroup still in use/);
  });
});

describe('removing a real pod cgroup with running processes (cgroupfs on this host)', () => {
  it('SIGKILLs the processes in it and in a container cgroup below it, then removes it from every hierarchy', async () => {
    const cgroups = await CgroupManager.open({ root: '/sys/fs/cgroup', clock: realClock });
    expect(cgroups.standIn).toBe(false);
    const name = [`kubelet-harness-kill-test-${randomBytes(4).toString('hex')}`];
    const children: ChildProcess[] = [];
    try {
      await cgroups.create(name, {});
      const ctr = join(cgroups.path(name, 'memory'), 'ctr');
      mkdirSync(ctr);
      for (let i = 0; i < 2; i++) children.push(spawn('sleep', ['600'], { stdio: 'ignore' }));
      const [a, b] = children.map((c) => c.pid as number) as [number, number];
      writeFileSync(join(cgroups.path(name, 'pids'), 'cgroup.procs'), String(a));
      writeFileSync(join(ctr, 'cgroup.procs'), String(b));
      expect(await cgroups.pids(name)).toEqual([a, b].sort((x, y) => x - y));
      const exits = children.map((c) => once(c, 'exit'));
      const logs: string[] = [];
      expect(await removePodCgroup(name, { cgroups, clock: realClock, kill: sigkill, log: (m) => logs.push(m) })).toBe(true);
      const signals = (await Promise.all(exits)).map(([, signal]) => signal as NodeJS.Signals | null);
      expect(signals).toEqual(['SIGKILL', 'SIGKILL']);
      for (const path of cgroups.paths(name)) expect(existsSync(path), path).toBe(false);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const path of cgroups.paths(name)) {
        for (const sub of [join(path, 'ctr'), path]) {
          try {
            rmdirSync(sub);
          } catch {
            // already removed by the code under test
          }
        }
      }
    }
  });
});
