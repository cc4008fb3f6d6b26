import type { Journal } from '../../fakes/journal/journal.js';
import type { Clock } from '../../agent/clock/clock.js';

export type TargetKind = 'fake' | 'containerd' | 'endpoint';

/** Image references every target can pull. On real runtimes they point at the harness's local registry. */
export interface TestImages {
  /** The pod infrastructure ("pause") image. */
  readonly pause: string;
  /** A busybox image able to run sh, sleep, cat, echo, httpd, nc, wget. */
  readonly busybox: string;
  /** A well-formed reference that does not exist in the registry. */
  readonly missing: string;
}

/** A runtime the specs run against, and what the harness started for it. */
export interface Target {
  readonly kind: TargetKind;
  /** Human-readable description for reports, e.g. "containerd 1.6.20 at unix:///tmp/.../containerd.sock". */
  readonly description: string;
  readonly runtimeEndpoint: string;
  readonly imageEndpoint: string;
  readonly images: TestImages;
  readonly journal: Journal | null;
  readonly clock: Clock;
  /** Stops whatever the harness started for this target. */
  close(): Promise<void>;
}
