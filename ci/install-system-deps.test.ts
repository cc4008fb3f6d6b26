import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../agent/util/package-root.js';
import { REQUIRED_PACKAGES } from './system-deps.js';

const script = packagePath('ci/install-system-deps.sh');
const stubs = mkdtempSync(join(tmpdir(), 'kubelet-harness-install-test-'));
chmodSync(stubs, 0o755);
afterAll(() => rmSync(stubs, { recursive: true, force: true }));

describe('ci/install-system-deps.sh', () => {
  it('does nothing when every package is installed', () => {
    const result = spawnSync('bash', [script], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`install-system-deps: all ${REQUIRED_PACKAGES.length} packages present\n`);
  });

  it('as a non-root user prints the install command for what is missing and exits 0', () => {
    // A dpkg-query that knows no package: everything counts as missing.
    writeFileSync(join(stubs, 'dpkg-query'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(stubs, 'dpkg-query'), 0o755);
    const result = spawnSync('bash', [script], { encoding: 'utf8', uid: 65534, gid: 65534, env: { PATH: `${stubs}:/usr/bin:/bin` } });
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`not root; as root run: apt-get install -y ${REQUIRED_PACKAGES.join(' ')}`);
    expect(result.stderr).toContain('CRI_ENDPOINT=unix://');
  });

  it('lists the same packages as the test-time check', () => {
    const text = spawnSync('sed', ['-n', '/^packages=(/,/^)/p', script], { encoding: 'utf8' }).stdout;
    const listed = [...text.matchAll(/^\s+([a-z0-9.+-]+)/gm)].map((match) => match[1]);
    expect(listed).toEqual([...REQUIRED_PACKAGES]);
  });
});
