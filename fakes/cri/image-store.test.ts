import { describe, expect, it } from 'vitest';
import { Code, CriError } from './errors.js';
import { ImageStore } from './image-store.js';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof CriError ? err.code : -1;
  }
  return undefined;
}

describe('the fake image store', () => {
  it('pulls well-formed references with deterministic IDs, tags and digests', () => {
    const a = new ImageStore().pull('busybox:1.36', 0);
    const b = new ImageStore().pull('docker.io/library/busybox:1.36', 5);
    expect(a.id).toBe(b.id);
    expect(a.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.repoTags).toEqual(['docker.io/library/busybox:1.36']);
    expect(a.repoDigests[0]).toMatch(/^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    expect(a.sizeBytes).toBeGreaterThan(1_000_000);
  });

  it('resolves by reference, normalised reference, digest reference and image ID', () => {
    const store = new ImageStore();
    const image = store.pull('nginx', 0);
    expect(store.resolve('nginx:latest')?.id).toBe(image.id);
    expect(store.resolve('docker.io/library/nginx')?.id).toBe(image.id);
    expect(store.resolve(image.repoDigests[0]!)?.id).toBe(image.id);
    expect(store.resolve(image.id)?.id).toBe(image.id);
    expect(store.resolve('nginx:other')).toBeUndefined();
    expect(store.resolve('NOT A REF')).toBeUndefined();
  });

  it('keeps a digest-only pull without repo tags', () => {
    const digest = 'sha256:' + 'b'.repeat(64);
    const image = new ImageStore().pull(`busybox@${digest}`, 0);
    expect(image.repoTags).toEqual([]);
    expect(image.repoDigests).toEqual([`docker.io/library/busybox@${digest}`]);
  });

  it('fails missing images like a registry 404 and unauthorized ones like a 401', () => {
    const store = new ImageStore();
    expect(codeOf(() => store.pull('registry.invalid/x/does-not-exist:1', 0))).toBe(Code.NOT_FOUND);
    store.addRule({ match: 'private/', outcome: { kind: 'unauthorized' } });
    expect(() => store.pull('example.com/private/app:1', 0)).toThrow(/401 Unauthorized/);
    expect(codeOf(() => store.pull('Bad Ref', 0))).toBe(Code.INVALID_ARGUMENT);
    expect(store.list()).toEqual([]);
  });

  it('removes an image idempotently and accounts total bytes', () => {
    const store = new ImageStore();
    const image = store.pull('busybox', 0);
    expect(store.totalBytes()).toBe(image.sizeBytes);
    expect(store.remove('busybox')).toBe(true);
    expect(store.remove('busybox')).toBe(false);
    expect(store.totalBytes()).toBe(0);
  });

  it('resolves a reference the same way the second time, after a removal and a new pull, and past its memo of references', () => {
    const store = new ImageStore();
    expect(store.resolve('busybox')).toBeUndefined();
    const image = store.pull('busybox', 0);
    expect(store.resolve('busybox')?.id).toBe(image.id);
    expect(store.resolve('busybox')?.id).toBe(image.id);
    expect(store.remove('busybox')).toBe(true);
    expect(store.resolve('busybox')).toBeUndefined();
    expect(store.resolve('Not A Reference!')).toBeUndefined();
    expect(store.resolve('Not A Reference!')).toBeUndefined();
    for (let i = 0; i < 600; i++) store.resolve(`example.com/app${i}:1`);
    store.pull('busybox', 1);
    expect(store.resolve('docker.io/library/busybox:latest')?.id).toBe(image.id);
  });
});
