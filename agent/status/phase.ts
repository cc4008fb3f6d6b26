import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { containersOf, initContainersOf, isRestartableInitContainer, isStaticPod, restartPolicyOf } from '../kuberuntime/pod-helpers.js';

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** True when some regular container is running or has terminated (upstream HasAnyRegularContainerStarted). */
export function hasAnyRegularContainerStarted(pod: V1Pod, statuses: readonly V1ContainerStatus[]): boolean {
  const names = new Set(containersOf(pod).map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state?.running !== undefined || s.state?.terminated !== undefined));
}

function statusOf(statuses: readonly V1ContainerStatus[], name: string): V1ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/**
 * Pod phase from container statuses (upstream getPhase, semantics §4.5). `statuses` holds regular and
 * init container statuses together; `podIsTerminal` is true while the pod is being torn down.
 */
export function getPhase(pod: V1Pod, statuses: readonly V1ContainerStatus[], podIsTerminal: boolean): PodPhase {
  let pendingInitialization = 0;
  let failedInitialization = 0;
  const initContainers = initContainersOf(pod);

  for (const c of initContainers) {
    if (isRestartableInitContainer(c)) continue;
    const s = statusOf(statuses, c.name);
    if (!s) {
      pendingInitialization++;
      continue;
    }
    if (s.state?.running) {
      pendingInitialization++;
    } else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
      } else {
        pendingInitialization++;
      }
    } else {
      pendingInitialization++;
    }
  }

  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;

  for (const c of initContainers) {
    if (!isRestartableInitContainer(c)) continue;
    const s = statusOf(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) {
      if (s.started !== true) pendingInitialization++;
      running++;
    } else if (s.state?.terminated) {
      // A stopped sidecar does not decide the phase.
    } else if (s.state?.waiting) {
      if (!s.lastState?.terminated) {
        pendingInitialization++;
        waiting++;
      }
    } else {
      pendingInitialization++;
      unknown++;
    }
  }

  for (const c of containersOf(pod)) {
    const s = statusOf(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state?.running) {
      running++;
    } else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else {
      unknown++;
    }
  }

  const policy = restartPolicyOf(pod);
  if (failedInitialization > 0 && policy === 'Never') return 'Failed';

  if ((pendingInitialization > 0 && !hasAnyRegularContainerStarted(pod, statuses)) || waiting > 0) {
    return 'Pending';
  }
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal && !isStaticPod(pod)) {
      return stopped === succeeded ? 'Succeeded' : 'Failed';
    }
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

export function isTerminalPhase(phase: string | undefined): phase is 'Succeeded' | 'Failed' {
  return phase === 'Succeeded' || phase === 'Failed';
}
