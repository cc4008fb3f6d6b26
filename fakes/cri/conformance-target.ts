import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import type { Target, TestImages } from '../../conformance/framework/target.js';
import type { Journal } from '../journal/journal.js';
import { startFakeCri, type StartFakeCriOptions } from './server.js';

/**
 * Image references the fake target offers the specs. Any well-formed reference pulls on the fake; these
 * look like the upstream images the containerd target mirrors, and `missing` fails like a registry 404.
 */
export const FAKE_TEST_IMAGES: TestImages = Object.freeze({
  pause: 'registry.k8s.io/pause:3.9',
  busybox: 'docker.io/library/busybox:1.36',
  missing: 'registry.invalid/kubelet-harness/does-not-exist:1.0',
});

/** Starts an in-process fake CRI runtime and describes it as a conformance Target. */
export async function openFakeCriTarget(options: StartFakeCriOptions & { clock?: Clock; journal?: Journal } = {}): Promise<Target> {
  const clock = options.clock ?? realClock;
  const fake = await startFakeCri({ sandboxImage: FAKE_TEST_IMAGES.pause, ...options, clock });
  return {
    kind: 'fake',
    description: `fake CRI runtime (in-process) at ${fake.endpoint}`,
    runtimeEndpoint: fake.endpoint,
    imageEndpoint: fake.endpoint,
    images: FAKE_TEST_IMAGES,
    journal: fake.journal,
    clock,
    close: () => fake.close(),
  };
}
