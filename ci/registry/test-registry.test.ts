import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEDIA_TYPES } from '../images/oci-layout.js';
import { pushLayoutImage, RegistryError } from './push.js';
import { startTestRegistry, type TestRegistry } from './test-registry.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-registry-test-'));
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startTestRegistry({ cacheDir });
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  rmSync(cacheDir, { recursive: true, force: true });
});

async function manifestDigest(reference: string): Promise<{ status: number; digest: string | null }> {
  const [, path, tag] = /^[^/]+\/(.+):([^:]+)$/.exec(reference) ?? [];
  const response = await fetch(`${registry.url}/v2/${path}/manifests/${tag}`, { headers: { accept: MEDIA_TYPES.manifest } });
  await response.arrayBuffer();
  return { status: response.status, digest: response.headers.get('docker-content-digest') };
}

describe('the test registry (real docker-registry)', () => {
  it('listens on 127.0.0.1 and serves the pushed images with their layout digests', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await manifestDigest(registry.images.pause)).toEqual({ status: 200, digest: registry.layouts.pause.manifest.digest });
    expect(await manifestDigest(registry.images.busybox)).toEqual({ status: 200, digest: registry.layouts.busybox.manifest.digest });
  });

  it('serves the mirror paths for upstream-looking names', async () => {
    expect((await manifestDigest(`${registry.host}/pause:3.10`)).digest).toBe(registry.layouts.pause.manifest.digest);
    expect((await manifestDigest(`${registry.host}/library/busybox:1.35`)).digest).toBe(registry.layouts.busybox.manifest.digest);
  });

  it('does not have the "missing" reference', async () => {
    expect((await manifestDigest(registry.images.missing)).status).toBe(404);
  });

  it('accepts a second push of the same image under another tag, reusing the blobs', async () => {
    const layout = registry.layouts.busybox;
    const pushed = await pushLayoutImage(layout.dir, layout.tag, { registryUrl: registry.url, repository: 'kubelet-harness/busybox', tag: 'again' });
    expect(pushed.digest).toBe(layout.manifest.digest);
    expect((await manifestDigest(`${registry.host}/kubelet-harness/busybox:again`)).digest).toBe(layout.manifest.digest);
  });

  it('rejects invalid names before talking to the registry and surfaces registry errors with the status', async () => {
    const layout = registry.layouts.pause;
    await expect(pushLayoutImage(layout.dir, layout.tag, { registryUrl: registry.url, repository: 'Upper/Case', tag: 'x' })).rejects.toThrow(/invalid repository name "Upper\/Case"/);
    await expect(pushLayoutImage(layout.dir, 'no-such-tag', { registryUrl: registry.url, repository: 'a', tag: 'x' })).rejects.toThrow(/no image tagged "no-such-tag"/);
    const wrongPath = pushLayoutImage(layout.dir, layout.tag, { registryUrl: `${registry.url}/nothing-here`, repository: 'a', tag: 'x' });
    await expect(wrongPath).rejects.toBeInstanceOf(RegistryError);
  });

  it('leaves no process or directory behind when stopped', async () => {
    const other = await startTestRegistry({ cacheDir });
    const pid = other.pid;
    await other.stop();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(other.workDir)).toBe(false);
    await expect(fetch(`${other.url}/v2/`)).rejects.toThrow();
  }, 30_000);
});
