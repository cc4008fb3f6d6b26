import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSnapshots, formatDiff, isEmptyDiff, takeHostSnapshot, type HostSnapshot } from './snapshot.js';

const empty: HostSnapshot = { processes: [], mounts: [], netns: [], links: [], tmpEntries: [], cgroupDirs: [], iptablesChains: [], runContainerd: [], cniState: [] };

describe('host snapshots', () => {
  it('report a process and a temp directory created between two snapshots, and nothing once they are gone', async () => {
    const before = takeHostSnapshot();
    const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-snapshot-test-'));
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const during = diffSnapshots(before, takeHostSnapshot());
      expect(during.tmpEntries).toContain(basename(dir));
      expect(during.processes.some((item) => item.startsWith(`${child.pid} `) && item.endsWith('sleep 30'))).toBe(true);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true });
    }
    const after = diffSnapshots(before, takeHostSnapshot());
    expect(after.tmpEntries).not.toContain(basename(dir));
    expect(after.processes.some((item) => item.startsWith(`${child.pid} `))).toBe(false);
  });

  it('identify processes by pid and start time, not by a command line that changed', () => {
    const before = { ...empty, processes: ['10 500 npm'] };
    const after = { ...empty, processes: ['10 500 npm exec tsc', '11 600 containerd --config /tmp/x'] };
    const diff = diffSnapshots(before, after);
    expect(diff.processes).toEqual(['11 600 containerd --config /tmp/x']);
    expect(isEmptyDiff(diff)).toBe(false);
    expect(formatDiff(diff)).toBe('processes:\n  + 11 600 containerd --config /tmp/x');
    expect(isEmptyDiff(diffSnapshots(after, after))).toBe(true);
  });
});
