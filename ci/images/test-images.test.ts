import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestReferences, readLayoutBlob } from './oci-layout.js';
import { buildTestImages, type TestImageLayouts } from './test-images.js';

const cacheA = mkdtempSync(join(tmpdir(), 'kubelet-harness-images-test-'));
const cacheB = mkdtempSync(join(tmpdir(), 'kubelet-harness-images-test-'));
afterAll(() => {
  rmSync(cacheA, { recursive: true, force: true });
  rmSync(cacheB, { recursive: true, force: true });
});

function layerListing(layouts: TestImageLayouts, name: keyof TestImageLayouts): string[] {
  const layout = layouts[name];
  const manifest = readFileSync(join(layout.dir, 'blobs/sha256', layout.manifest.digest.slice(7)));
  const [, layer] = manifestReferences(manifest, 'manifest');
  const archive = gunzipSync(readFileSync(join(layout.dir, 'blobs/sha256', (layer?.digest ?? '').slice(7))));
  const file = join(cacheA, `${name}.tar`);
  writeFileSync(file, archive);
  return execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--full-time', '-f', file], { encoding: 'utf8' }).trim().split('\n');
}

describe('the offline test images', { timeout: 60_000 }, () => {
  let first: TestImageLayouts;

  it('are built twice in separate caches with identical manifest digests', async () => {
    first = await buildTestImages(cacheA);
    const second = await buildTestImages(cacheB);
    expect(second.pause.manifest.digest).toBe(first.pause.manifest.digest);
    expect(second.busybox.manifest.digest).toBe(first.busybox.manifest.digest);
    expect(first.pause.manifest.digest).not.toBe(first.busybox.manifest.digest);
  });

  it('are reused from the cache on a rebuild', async () => {
    const again = await buildTestImages(cacheA);
    expect(again.busybox.dir).toBe(first.busybox.dir);
    expect(again.busybox.manifest).toEqual(first.busybox.manifest);
  });

  it('have verifiable blobs and a config naming the entrypoint', async () => {
    const manifest = await readLayoutBlob(first.pause.dir, first.pause.manifest.digest);
    const [config] = manifestReferences(manifest, 'pause manifest');
    const parsed = JSON.parse((await readLayoutBlob(first.pause.dir, config?.digest ?? '')).toString()) as { config: { Entrypoint: string[] }; os: string };
    expect(parsed.os).toBe('linux');
    expect(parsed.config.Entrypoint).toEqual(['/pause']);
  });

  it('have layers with owner 0/0, epoch mtimes and busybox applets as hard links', () => {
    const lines = layerListing(first, 'busybox');
    for (const line of lines) {
      expect(line).toMatch(/^\S+ 0\/0 /);
      expect(line).toContain('1970-01-01 00:00:00');
    }
    const names = lines.map((line) => line.split(/\s+/)[5] ?? '');
    expect(names).toEqual(expect.arrayContaining(['bin/sh', 'bin/sleep', 'bin/cat', 'usr/sbin/httpd', 'usr/bin/nc', 'usr/bin/wget', 'etc/passwd', 'tmp/']));
    expect(lines.find((line) => / bin\/sh link to /.test(line))).toBeDefined();
    expect(names.some((name) => name.endsWith('libc.so.6'))).toBe(true);
    expect(names).toContain('lib64/ld-linux-x86-64.so.2');
  });

  it('have a pause binary that prints its version and exits 0 on SIGTERM', async () => {
    const lines = layerListing(first, 'pause');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^-rwxr-xr-x 0\/0 .* pause$/);
    execFileSync('tar', ['-xf', join(cacheA, 'pause.tar'), '-C', cacheA]);
    const binary = join(cacheA, 'pause');
    expect(execFileSync(binary, ['-v'], { encoding: 'utf8' })).toBe('kubelet-harness-pause 1\n');
    const child = spawn(binary, [], { stdio: 'ignore' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(child.exitCode).toBeNull(); // still blocking
    const exited = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
