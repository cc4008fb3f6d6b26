/**
 * Builds the offline test images (pause, busybox) as OCI layouts in a cache directory keyed by content: the
 * key hashes the uncompressed layers and the config, so a rerun with the same host binaries reuses the layout
 * and only a changed input rebuilds.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBusyboxInputs, busyboxImage } from './busybox.js';
import { buildImage, readLayoutIndex, writeOciLayout, type Descriptor, type ImageDefinition } from './oci-layout.js';
import { cachedPauseBinary, pauseImage } from './pause.js';
import { writeTar } from './tar.js';

/** Bumped when the layout format written here changes, so old cache entries are not reused. */
const LAYOUT_FORMAT = 1;

export const TEST_IMAGE_TAGS = { pause: '3.10', busybox: '1.35' } as const;

export interface LayoutRef {
  /** OCI layout directory. */
  readonly dir: string;
  /** Tag recorded in the layout's index.json. */
  readonly tag: string;
  readonly manifest: Descriptor;
}

export interface TestImageLayouts {
  readonly pause: LayoutRef;
  readonly busybox: LayoutRef;
}

/** KUBELET_HARNESS_CACHE_DIR, else $XDG_CACHE_HOME/kubelet-harness, else ~/.cache/kubelet-harness. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['KUBELET_HARNESS_CACHE_DIR']) return env['KUBELET_HARNESS_CACHE_DIR'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'kubelet-harness');
}

export function imageCacheKey(definition: ImageDefinition): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: LAYOUT_FORMAT, tag: definition.tag, config: definition.config }));
  for (const layer of definition.layers) hash.update(createHash('sha256').update(writeTar(layer)).digest());
  return hash.digest('hex').slice(0, 24);
}

/** Returns the cached layout for the definition, building it first when absent. */
export async function ensureLayout(cacheDir: string, name: string, definition: ImageDefinition): Promise<LayoutRef> {
  const dir = join(cacheDir, 'oci', `${name}-${imageCacheKey(definition)}`);
  if (!existsSync(join(dir, 'index.json'))) {
    await mkdir(join(cacheDir, 'oci'), { recursive: true });
    // Build beside the final place and rename, so a concurrent or interrupted build never leaves half a layout.
    const staging = await mkdtemp(join(cacheDir, 'oci', `.${name}-`));
    try {
      await writeOciLayout(staging, definition, buildImage(definition));
      await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(join(dir, 'index.json'))) throw error; // someone else finished first otherwise
      });
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }
  const [entry] = await readLayoutIndex(dir);
  if (entry === undefined || entry.tag !== definition.tag) throw new Error(`cached layout ${dir} has no manifest tagged ${definition.tag}`);
  return { dir, tag: entry.tag, manifest: entry.manifest };
}

export async function buildTestImages(cacheDir: string = defaultCacheDir()): Promise<TestImageLayouts> {
  const [pause, busybox] = await Promise.all([
    cachedPauseBinary(cacheDir).then((binary) => ensureLayout(cacheDir, 'pause', pauseImage(binary, TEST_IMAGE_TAGS.pause))),
    readBusyboxInputs().then((inputs) => ensureLayout(cacheDir, 'busybox', busyboxImage(inputs, TEST_IMAGE_TAGS.busybox))),
  ]);
  return { pause, busybox };
}
