/**
 * The local registry the real-runtime tests pull from: builds (or reuses) the offline test images, starts
 * docker-registry on 127.0.0.1 and pushes the images, so every pull in a test is a real pull over HTTP.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killQuietly, listProcesses } from '../host/proc.js';
import { RUN_DIR_PREFIX, writeOwnerRecord } from '../host/run-record.js';
import { buildTestImages, defaultCacheDir, TEST_IMAGE_TAGS, type TestImageLayouts } from '../images/test-images.js';
import { startRegistryProcess } from './docker-registry.js';
import { pushLayoutImage } from './push.js';

export interface TestImages {
  /** The pause image (a static binary that blocks until SIGTERM/SIGINT, reaping children). */
  readonly pause: string;
  /** Debian busybox with hard-linked applets: sh, sleep, cat, httpd, nc, wget, echo, touch, rm, test... */
  readonly busybox: string;
  /** Well-formed, served by the same registry, but never pushed: pulling it must fail. */
  readonly missing: string;
}

export interface TestRegistry {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  /** References under the registry's own host name; pullable by any runtime on this machine. */
  readonly images: TestImages;
  /**
   * The same images under upstream-looking names (registry.k8s.io/pause:3.10, docker.io/library/busybox:1.35).
   * Only a runtime whose registry host config mirrors those names to this registry can pull them (the
   * containerd the harness provisions does).
   */
  readonly mirroredImages: { readonly pause: string; readonly busybox: string };
  readonly layouts: TestImageLayouts;
  readonly pid: number;
  /** The registry's private directory (config, storage, log); removed by stop(). */
  readonly workDir: string;
  stop(): Promise<void>;
  /** Synchronous last resort for exit handlers. */
  stopSync(): void;
}

export const REGISTRY_RUN_KIND = 'registry';

export interface RegistryRunDetails {
  readonly runDir: string;
}

/** Kills the registry serving from `runDir` (found by its config path) and removes the directory. */
export function forceCleanupRegistryRun(details: RegistryRunDetails): void {
  const config = join(details.runDir, 'config.yml');
  for (const p of listProcesses()) if (p.argv.includes(config)) killQuietly(p.pid, 'SIGKILL');
  rmSync(details.runDir, { recursive: true, force: true });
}

export interface TestRegistryOptions {
  /** Where built OCI layouts are cached (default: see defaultCacheDir). */
  readonly cacheDir?: string;
  /** Parent directory for the registry's private directory (default: the OS temp dir). */
  readonly parentDir?: string;
}

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), `${RUN_DIR_PREFIX}registry-`));
  writeOwnerRecord<RegistryRunDetails>(dir, REGISTRY_RUN_KIND, { runDir: dir });
  // Building (or finding) the images and starting the registry are independent: run them side by side.
  const [built, started] = await Promise.allSettled([buildTestImages(options.cacheDir ?? defaultCacheDir()), startRegistryProcess(dir)]);
  if (built.status === 'rejected' || started.status === 'rejected') {
    if (started.status === 'fulfilled') await started.value.stop();
    await rm(dir, { recursive: true, force: true });
    throw built.status === 'rejected' ? built.reason : (started as PromiseRejectedResult).reason;
  }
  const layouts = built.value;
  const registry = started.value;
  const stop = async (): Promise<void> => {
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const push = (layout: TestImageLayouts[keyof TestImageLayouts], repository: string, tag: string) =>
      pushLayoutImage(layout.dir, layout.tag, { registryUrl: registry.url, repository, tag });
    await Promise.all([
      push(layouts.pause, 'kubelet-harness/pause', TEST_IMAGE_TAGS.pause),
      push(layouts.busybox, 'kubelet-harness/busybox', TEST_IMAGE_TAGS.busybox),
    ]);
    // Mirror paths: registry.k8s.io/pause → /v2/pause, docker.io/library/busybox → /v2/library/busybox.
    await Promise.all([push(layouts.pause, 'pause', TEST_IMAGE_TAGS.pause), push(layouts.busybox, 'library/busybox', TEST_IMAGE_TAGS.busybox)]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: registry.url,
    host: registry.host,
    images: {
      pause: `${registry.host}/kubelet-harness/pause:${TEST_IMAGE_TAGS.pause}`,
      busybox: `${registry.host}/kubelet-harness/busybox:${TEST_IMAGE_TAGS.busybox}`,
      missing: `${registry.host}/kubelet-harness/does-not-exist:0.0.1`,
    },
    mirroredImages: { pause: `registry.k8s.io/pause:${TEST_IMAGE_TAGS.pause}`, busybox: `docker.io/library/busybox:${TEST_IMAGE_TAGS.busybox}` },
    layouts,
    pid: registry.pid,
    workDir: dir,
    stop,
    stopSync: () => forceCleanupRegistryRun({ runDir: dir }),
  };
}
