import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCriClient } from '../../runtime/cri-client.js';
import { packagePath } from '../../util/package-root.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Runs the CLI from source; the type-stripping resolve hook lives in ci/scripts (formerly fakes/cni). */
const LOADER = ['ci/scripts/source-loader.mjs', 'fakes/cni/source-loader.mjs'].find((p) => existsSync(packagePath(p))) ?? 'ci/scripts/source-loader.mjs';

function cli(args: string[]) {
  const child = spawn(
    packagePath('node_modules', '.bin', 'node'),
    ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', `./${LOADER}`, 'agent/cmd/main.ts', 'fake-cri', ...args],
    { cwd: packagePath() },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('kubelet-harness fake-cri', () => {
  it('serves CRI on a 0600 socket, journals to a file and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-cri-cli-'));
    dirs.push(dir);
    const socket = join(dir, 'cri.sock');
    const journal = join(dir, 'calls.jsonl');
    const run = cli(['--listen', `unix://${socket}`, '--journal', journal, '--stop-missing', 'ok']);
    try {
      const deadline = Date.now() + 30_000;
      while (!run.out().includes('listening on')) {
        if (Date.now() > deadline) throw new Error(`not listening; stderr: ${run.err()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(statSync(socket).mode & 0o777).toBe(0o600);
      const cri = createCriClient({ runtimeEndpoint: `unix://${socket}` });
      try {
        expect((await cri.version({})).runtimeName).toBe('fake-cri');
        await cri.stopContainer({ containerId: 'unknown', timeout: 0 });
      } finally {
        cri.close();
      }
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(existsSync(socket)).toBe(false);
    const names = readFileSync(journal, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name);
    expect(names).toEqual(['Version', 'StopContainer']);
  }, 90_000);

  it('rejects a bad flag with a message naming it', async () => {
    const run = cli(['--listen', '/tmp/fake-cri-cli-test.sock', '--stop-missing', 'maybe']);
    expect(await run.exited).not.toBe(0);
    expect(run.err()).toContain('--stop-missing must be not-found or ok');
  }, 90_000);
});
