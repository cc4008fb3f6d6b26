import type { RestartPolicy } from '../prober/types.js';

/**
 * `ShouldContainerBeRestarted` (semantics §3.1) for a container that has a status: never while the pod
 * is being deleted; not while running; after an exit by the restart policy (sidecars always).
 * A container with no status, or in created/unknown state, is (re)started.
 */
export function shouldContainerBeRestarted(input: {
  readonly restartPolicy: RestartPolicy;
  readonly podDeleting?: boolean;
  readonly sidecar?: boolean;
  readonly state: 'none' | 'created' | 'unknown' | 'running' | 'exited';
  readonly exitCode?: number;
}): boolean {
  if (input.podDeleting === true) return false;
  switch (input.state) {
    case 'none':
    case 'created':
    case 'unknown':
      return true;
    case 'running':
      return false;
    case 'exited':
      if (input.sidecar === true) return true;
      if (input.restartPolicy === 'Never') return false;
      if (input.restartPolicy === 'OnFailure') return (input.exitCode ?? 0) !== 0;
      return true;
  }
}
