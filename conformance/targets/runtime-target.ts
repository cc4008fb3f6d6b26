import { realClock } from '../../agent/clock/real-clock.js';
import type { RuntimeTargetInfo } from '../../ci/environment.js';
import type { Target } from '../framework/target.js';

/** A Target over a real runtime described by ci/ (a provisioned containerd, or a user's endpoint). */
export function runtimeTarget(info: RuntimeTargetInfo, close: () => Promise<void>): Target {
  return {
    kind: info.kind,
    description:
      info.kind === 'containerd'
        ? `containerd provisioned by the harness at ${info.runtimeEndpoint}`
        : `runtime at ${info.runtimeEndpoint}`,
    runtimeEndpoint: info.runtimeEndpoint,
    imageEndpoint: info.imageEndpoint,
    images: info.images,
    journal: null,
    clock: realClock,
    close,
  };
}
