import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../../util/package-root.js';
import { eventTtlFlag } from './mock-apiserver.js';

const LOADER = ['ci/scripts/source-loader.mjs', 'fakes/cni/source-loader.mjs'].find((p) => existsSync(packagePath(p))) ?? 'ci/scripts/source-loader.mjs';

describe('kubelet-harness mock-apiserver --event-ttl', () => {
  it('reads Go duration syntax as kube-apiserver does', () => {
    expect(eventTtlFlag('1h0m0s')).toBe(3_600_000);
    expect(eventTtlFlag('90s')).toBe(90_000);
    expect(eventTtlFlag('1.5m')).toBe(90_000);
  });

  it('rejects a malformed, zero or negative TTL naming the flag', () => {
    expect(() => eventTtlFlag('1 hour')).toThrow(/^--event-ttl: time: unknown unit/);
    expect(() => eventTtlFlag('60')).toThrow(/^--event-ttl: time: missing unit/);
    expect(() => eventTtlFlag('0')).toThrow('--event-ttl must be a positive duration, got "0"');
    expect(() => eventTtlFlag('-5m')).toThrow('--event-ttl must be a positive duration');
  });

  it('exits 2 with the flag named when the TTL is malformed, without serving', async () => {
    const child = spawn(
      packagePath('node_modules', '.bin', 'node'),
      ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', '--import', `./${LOADER}`, 'agent/cmd/main.ts', 'mock-apiserver', '--event-ttl', 'soon'],
      { cwd: packagePath() },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain('mock-apiserver: --event-ttl: time: invalid duration "soon"');
    expect(out).not.toContain('listening');
  }, 60_000);
});
