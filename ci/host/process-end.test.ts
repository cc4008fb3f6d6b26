import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../agent/util/package-root.js';
import { CNI_RESULTS_DIR, taskRuntimeFiles } from '../containerd/force-cleanup.js';
import { sweepOrphanedRuns } from '../environment.js';
import { listProcesses } from './proc.js';
import { runtimeCgroupDirs } from './cgroups.js';

interface Created {
  runDir: string;
  registryDir: string;
  bridge: string;
  netns: string;
  containerdPid: number;
  registryPid: number;
  podUid: string;
  sandboxId: string;
}

/** Starts the fixture process and resolves with what it created, once the pod runs. */
async function startChild(parentDir: string, mode: 'wait' | 'exit' = 'wait'): Promise<{ created: Created; exited: Promise<[number | null, string | null]>; kill: (signal: NodeJS.Signals) => void }> {
  const child = spawn(
    process.execPath,
    ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', packagePath('ci/scripts/source-loader.mjs'), packagePath('ci/testing/provision-child.ts'), parentDir, mode],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    void exited.then(([code]) => reject(new Error(`fixture exited with ${code} before provisioning: ${stderr}`)));
  });
  return { created: JSON.parse(line) as Created, exited, kill: (signal) => child.kill(signal) };
}

function leftovers(created: Created): string[] {
  const found: string[] = [];
  if (existsSync(created.runDir)) found.push(`run dir ${created.runDir}`);
  if (existsSync(created.registryDir)) found.push(`registry dir ${created.registryDir}`);
  if (created.netns && existsSync(created.netns)) found.push(`netns ${created.netns}`);
  if (spawnSync('ip', ['link', 'show', 'dev', created.bridge], { stdio: 'ignore' }).status === 0) found.push(`bridge ${created.bridge}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  if (mounts.includes(created.runDir)) found.push('mounts below the run dir');
  for (const p of listProcesses()) {
    if (p.argv.some((arg) => arg.includes(created.runDir) || arg.includes(created.registryDir))) found.push(`process ${p.pid} ${p.argv.join(' ')}`);
  }
  for (const dir of runtimeCgroupDirs()) if (dir.includes(created.podUid)) found.push(`cgroup ${dir}`);
  for (const path of taskRuntimeFiles(join(created.runDir, 'containerd.sock'), created.sandboxId)) if (existsSync(path)) found.push(`task file ${path}`);
  const results = existsSync(CNI_RESULTS_DIR) ? readdirSync(CNI_RESULTS_DIR) : [];
  for (const name of results) if (name.includes(created.sandboxId)) found.push(`CNI result cache ${name}`);
  return found;
}

// Each fixture puts its run directories in a private parent: sweeps by concurrent tests (which look in the OS temp
// dir) cannot touch them, so what this test sees is what its own fixture and its own sweep did.
const parents: string[] = [];
afterAll(() => {
  for (const dir of parents) rmSync(dir, { recursive: true, force: true });
});
function privateParent(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-process-end-'));
  parents.push(dir);
  return dir;
}

describe('the environment when its process ends without a teardown', () => {
  it('cleans up from its signal handler on SIGTERM', { timeout: 120_000 }, async () => {
    const { created, exited, kill } = await startChild(privateParent());
    // The fixture really created things, the CNI result cache included.
    expect(leftovers(created)).toEqual(
      expect.arrayContaining([
        `run dir ${created.runDir}`,
        `CNI result cache cni-loopback-${created.sandboxId}-lo`,
        ...taskRuntimeFiles(join(created.runDir, 'containerd.sock'), created.sandboxId).map((path) => `task file ${path}`),
      ]),
    );
    kill('SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(leftovers(created)).toEqual([]);
  });

  it('cleans up from its exit handler when the process exits without a teardown', { timeout: 120_000 }, async () => {
    const { created, exited } = await startChild(privateParent(), 'exit');
    expect(await exited).toEqual([0, null]);
    expect(leftovers(created)).toEqual([]);
  });

  it('is swept by the next run after SIGKILL', { timeout: 120_000 }, async () => {
    const parent = privateParent();
    const { created, exited, kill } = await startChild(parent);
    kill('SIGKILL');
    await exited;
    expect(leftovers(created)).toEqual(expect.arrayContaining([`run dir ${created.runDir}`, `bridge ${created.bridge}`]));
    expect(sweepOrphanedRuns(undefined, parent)).toBe(2); // its containerd run and its registry run
    expect(leftovers(created)).toEqual([]);
  });
});
