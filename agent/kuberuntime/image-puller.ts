import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import type { PodSandboxConfig } from '../../proto/generated/cri/runtime/v1/PodSandboxConfig.js';
import { EventReason, containerRef, type EventRecorder } from '../api/events.js';
import { DEFAULT_CRASHLOOP_BACKOFF, isInBackOffSince, nextBackoff, type BackoffEntry, type BackoffPolicy } from '../lifecycle/backoff.js';
import type { CriClient } from '../runtime/cri-client.js';
import { podUid } from './pod-helpers.js';

/**
 * EnsureImageExists as the kubelet's image manager does it (upstream pkg/kubelet/images/image_manager.go):
 * pull per imagePullPolicy, with Pulling/Pulled/Failed/BackOff events and a per pod+image backoff
 * (10 s doubling to 300 s) that turns repeated ErrImagePull into ImagePullBackOff.
 */

export type ImagePullReason = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName' | 'ImageInspectError';

export class ImagePullError extends Error {
  override readonly name = 'ImagePullError';
  constructor(
    readonly reason: ImagePullReason,
    message: string,
  ) {
    super(message);
  }
}

/** Default pull policy: Always for ':latest' or no tag (and no digest), else IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** An image reference the kubelet accepts: no whitespace, no uppercase repository, sane separators. */
export function isValidImageName(image: string): boolean {
  if (image === '' || /\s/.test(image)) return false;
  const [nameAndTag] = image.split('@');
  const lastSlash = nameAndTag!.lastIndexOf('/');
  const colon = nameAndTag!.indexOf(':', lastSlash + 1);
  const repo = colon >= 0 ? nameAndTag!.slice(0, colon) : nameAndTag!;
  const path = repo.includes('/') ? repo.slice(repo.indexOf('/') + 1) : repo;
  return /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path);
}

/**
 * The image manager's flowcontrol.Backoff (10 s doubling to 300 s, forgotten after 2 × max without a
 * failure): the same client-go backoff as CrashLoopBackOff, with times in seconds.
 */
const PULL_BACKOFF: BackoffPolicy = DEFAULT_CRASHLOOP_BACKOFF;

export class ImagePuller {
  private readonly backoff = new Map<string, BackoffEntry>();

  constructor(
    private readonly cri: CriClient,
    private readonly clock: Clock,
    private readonly recorder: EventRecorder,
  ) {}

  /** Returns the image reference to create the container with; throws ImagePullError. */
  async ensureImageExists(pod: V1Pod, container: V1Container, sandboxConfig: PodSandboxConfig, runtimeHandler: string): Promise<string> {
    const ref = containerRef(pod, container);
    const image = container.image ?? '';
    if (!isValidImageName(image)) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`;
      this.recorder.event(ref, 'Warning', EventReason.Failed, msg);
      throw new ImagePullError('InvalidImageName', msg);
    }
    const policy = container.imagePullPolicy ?? defaultPullPolicy(image);
    let present: string | undefined;
    try {
      const status = await this.cri.imageStatus({ image: { image, runtimeHandler } });
      present = status.image ? status.image.id : undefined;
    } catch (e) {
      const msg = `Failed to inspect image "${image}": ${(e as Error).message}`;
      this.recorder.event(ref, 'Warning', EventReason.InspectFailed, msg);
      throw new ImagePullError('ImageInspectError', msg);
    }
    if (policy !== 'Always' && present !== undefined) {
      this.recorder.event(ref, 'Normal', EventReason.Pulled, `Container image "${image}" already present on machine`);
      return present;
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      this.recorder.event(ref, 'Warning', EventReason.ErrImageNeverPull, msg);
      throw new ImagePullError('ErrImageNeverPull', msg);
    }
    const key = `${podUid(pod)}_${image}`;
    const now = this.clock.monotonic() / 1000;
    const entry = this.backoff.get(key);
    // IsInBackOffSinceUpdate: the window runs from the last failed pull.
    if (isInBackOffSince(entry, entry?.lastUpdate ?? now, now, PULL_BACKOFF)) {
      const msg = `Back-off pulling image "${image}"`;
      this.recorder.event(ref, 'Normal', EventReason.BackOff, msg);
      throw new ImagePullError('ImagePullBackOff', msg);
    }
    this.recorder.event(ref, 'Normal', EventReason.Pulling, `Pulling image "${image}"`);
    const started = this.clock.monotonic();
    try {
      const pulled = await this.cri.pullImage({ image: { image, runtimeHandler }, sandboxConfig });
      const seconds = ((this.clock.monotonic() - started) / 1000).toFixed(3);
      let size = '';
      try {
        const status = await this.cri.imageStatus({ image: { image: pulled.imageRef || image } });
        if (status.image) size = ` Image size: ${status.image.size} bytes.`;
      } catch {
        // The size is only decoration of the event.
      }
      this.recorder.event(ref, 'Normal', EventReason.Pulled, `Successfully pulled image "${image}" in ${seconds}s.${size}`);
      this.backoff.delete(key);
      return pulled.imageRef || image;
    } catch (e) {
      const at = this.clock.monotonic() / 1000;
      this.backoff.set(key, nextBackoff(this.backoff.get(key), at, at, PULL_BACKOFF));
      const msg = `Failed to pull image "${image}": ${(e as Error).message}`;
      this.recorder.event(ref, 'Warning', EventReason.Failed, msg);
      throw new ImagePullError('ErrImagePull', msg);
    }
  }

  /** When the pod's pull backoff for `image` ends (monotonic ms), for requeueing. */
  retryAt(pod: V1Pod, image: string): number | undefined {
    const e = this.backoff.get(`${podUid(pod)}_${image}`);
    return e ? (e.lastUpdate + e.backoffSeconds) * 1000 : undefined;
  }

  forgetPod(uid: string): void {
    for (const key of this.backoff.keys()) if (key.startsWith(`${uid}_`)) this.backoff.delete(key);
  }
}
