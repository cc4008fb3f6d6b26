import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { KILL_ATTEMPTS, killProcesses, parseCgroupProcs, sigkill } from './cgroup-processes.js';

describe('killing the processes left in a pod cgroup', () => {
  it('sends one kill per PID when every kill succeeds', () => {
    const calls: number[] = [];
    const outcome = killProcesses([10, 11, 12], (pid) => calls.push(pid));
    expect(calls).toEqual([10, 11, 12]);
    expect(outcome).toEqual({ killed: [10, 11, 12], errors: [] });
  });

  it('retries only the PIDs whose kill failed, and stops at the first pass without failures', () => {
    const calls: number[] = [];
    let failuresLeft = 2;
    const outcome = killProcesses([1, 2], (pid) => {
      calls.push(pid);
      if (pid === 2 && failuresLeft-- > 0) throw new Error('EPERM');
    });
    expect(calls).toEqual([1, 2, 2, 2]);
    expect(outcome).toEqual({ killed: [1, 2], errors: [] });
  });

  it('gives up after five passes, reporting the PIDs still alive', () => {
    const calls: number[] = [];
    const outcome = killProcesses([3, 4], (pid) => {
      calls.push(pid);
      if (pid === 4) throw new Error('operation not permitted');
    });
    expect(KILL_ATTEMPTS).toBe(5);
    expect(calls.filter((p) => p === 4)).toHaveLength(5);
    expect(calls.filter((p) => p === 3)).toHaveLength(1);
    expect(outcome.killed).toEqual([3]);
    expect(outcome.errors.map((e) => e.message)).toEqual(['killing pid 4: operation not permitted']);
  });

  it('reads cgroup.procs, ignoring blank lines and anything that is not a PID', () => {
    expect(parseCgroupProcs('12\n 345 \n\n0\nabc\n-3\n')).toEqual([12, 345]);
    expect(parseCgroupProcs('')).toEqual([]);
  });

  it('kills a live process with SIGKILL and treats one that already exited as killed', async () => {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    const pid = child.pid as number;
    const exited = once(child, 'exit');
    sigkill(pid);
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    // Reaped above: its PID is free now, and the kill reports no error (Go's os.ErrProcessDone).
    expect(() => sigkill(pid)).not.toThrow();
  });
});
