import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { shouldContainerBeRestarted as restartDecision } from '../lifecycle/restart-policy.js';
import { hashContainer } from './container-hash.js';
import { ephemeralContainersToStart } from './ephemeral-containers.js';
import {
  containersOf,
  initContainersOf,
  isBeingDeleted,
  isHostNetwork,
  isRestartableInitContainer,
  restartPolicyOf,
  shouldRestartOnFailure,
} from './pod-helpers.js';
import { findContainerStatus, type RuntimeContainerStatus, type RuntimePodStatus } from './runtime-status.js';

/**
 * What one runtime SyncPod must do to move a pod from what the CRI reports to what its spec asks
 * (upstream kuberuntime computePodActions + computeInitContainerActions, SidecarContainers on).
 * Pure: the probe results it needs come in through `probes`.
 */

export type KillReason = 'LivenessProbe' | 'StartupProbe' | 'Unknown' | 'FailedPostStartHook' | '';

export interface ContainerToKill {
  readonly containerId: string;
  readonly name: string;
  readonly message: string;
  readonly reason: KillReason;
  readonly isInit: boolean;
}

export interface PodActions {
  /** Stop every container and the sandbox (before recreating it, or because nothing should run). */
  readonly killPod: boolean;
  readonly createSandbox: boolean;
  /** Current sandbox id ('' when none can be reused). */
  readonly sandboxId: string;
  /** Attempt number for a new sandbox. */
  readonly attempt: number;
  /** Ephemeral container indices to start (those never started), in spec order. */
  readonly ephemeralContainersToStart: readonly number[];
  /** Init container indices to start, in spec order. */
  readonly initContainersToStart: readonly number[];
  /** Regular container indices to start, in spec order. */
  readonly containersToStart: readonly number[];
  readonly containersToKill: readonly ContainerToKill[];
  /** Running containers (regular or sidecar) whose resources are resized in place, by name. */
  readonly containersToUpdate: readonly string[];
}

/** In-place resize of a running container: nothing to do, UpdateContainerResources, or a restart (pod-resize.ts). */
export type ResizeVerdict = 'none' | 'update' | 'restart';
export type ResizeView = (container: V1Container, running: RuntimeContainerStatus) => ResizeVerdict;
export const NO_RESIZE: ResizeView = () => 'none';

export type ProbeCacheValue = 'Success' | 'Failure' | 'Unknown';

/** Cached liveness/startup results by container id (undefined = no result cached yet). */
export interface ProbeResultsView {
  liveness(containerId: string): ProbeCacheValue | undefined;
  startup(containerId: string): ProbeCacheValue | undefined;
}

export const NO_PROBE_RESULTS: ProbeResultsView = { liveness: () => undefined, startup: () => undefined };

/** Upstream ShouldContainerBeRestarted for the newest instance of `container` (sidecars always restart). */
export function shouldContainerBeRestarted(container: V1Container, pod: V1Pod, status: RuntimePodStatus): boolean {
  const latest = findContainerStatus(status, container.name);
  return restartDecision({
    restartPolicy: restartPolicyOf(pod),
    podDeleting: isBeingDeleted(pod),
    sidecar: isRestartableInitContainer(container) && initContainersOf(pod).some((c) => c.name === container.name),
    state: latest ? latest.state : 'none',
    exitCode: latest?.exitCode ?? 0,
  });
}

/**
 * Upstream PodSandboxChanged: a new sandbox is needed when there is none, more than one is ready, the
 * newest is not ready, its network namespace mode differs from the spec, or it has no IP.
 */
export function podSandboxChanged(
  pod: V1Pod,
  status: RuntimePodStatus,
): { changed: boolean; attempt: number; sandboxId: string } {
  const newest = status.sandboxStatuses[0];
  if (!newest) return { changed: true, attempt: 0, sandboxId: '' };
  const ready = status.sandboxStatuses.filter((s) => s.state === 'ready').length;
  if (ready > 1 || newest.state !== 'ready') {
    return { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  }
  if (newest.hostNetwork !== isHostNetwork(pod)) {
    return { changed: true, attempt: newest.attempt + 1, sandboxId: '' };
  }
  if (!isHostNetwork(pod) && newest.ip === '') {
    return { changed: true, attempt: newest.attempt + 1, sandboxId: newest.id };
  }
  return { changed: false, attempt: newest.attempt, sandboxId: newest.id };
}

function isInitContainerFailed(status: RuntimeContainerStatus): boolean {
  if (status.state === 'exited' && status.exitCode !== 0) return true;
  // An unknown-state init container is treated as failed (upstream isInitContainerFailed).
  return status.state === 'unknown';
}

function containerSucceeded(container: V1Container, status: RuntimePodStatus): boolean {
  const latest = findContainerStatus(status, container.name);
  if (!latest || latest.state === 'running') return false;
  return latest.exitCode === 0;
}

function hasAnyRegularContainerCreated(pod: V1Pod, status: RuntimePodStatus): boolean {
  return containersOf(pod).some((c) => {
    const s = findContainerStatus(status, c.name);
    return s !== undefined && (s.state === 'created' || s.state === 'running' || s.state === 'exited');
  });
}

function containerChanged(container: V1Container, status: RuntimeContainerStatus): boolean {
  return hashContainer(container) !== status.hash;
}

interface MutableActions {
  killPod: boolean;
  createSandbox: boolean;
  sandboxId: string;
  attempt: number;
  ephemeralContainersToStart: number[];
  initContainersToStart: number[];
  containersToStart: number[];
  containersToKill: Map<string, ContainerToKill>;
  containersToUpdate: string[];
}

export function computePodActions(
  pod: V1Pod,
  status: RuntimePodStatus,
  probes: ProbeResultsView = NO_PROBE_RESULTS,
  resize: ResizeView = NO_RESIZE,
): PodActions {
  const sandbox = podSandboxChanged(pod, status);
  const changes: MutableActions = {
    killPod: sandbox.changed,
    createSandbox: sandbox.changed,
    sandboxId: sandbox.sandboxId,
    attempt: sandbox.attempt,
    ephemeralContainersToStart: [],
    initContainersToStart: [],
    containersToStart: [],
    containersToKill: new Map(),
    containersToUpdate: [],
  };
  const containers = containersOf(pod);
  const initContainers = initContainersOf(pod);

  if (sandbox.changed) {
    // A Never pod that already ran containers in a sandbox that died is not given a new one.
    if (!shouldRestartOnFailure(pod) && sandbox.attempt !== 0 && status.containerStatuses.length !== 0) {
      changes.createSandbox = false;
      return freeze(changes);
    }
    const toStart: number[] = [];
    containers.forEach((c, idx) => {
      if (restartPolicyOf(pod) === 'OnFailure' && containerSucceeded(c, status)) return;
      toStart.push(idx);
    });
    if (toStart.length === 0 && hasAnyRegularContainerCreated(pod, status)) {
      changes.createSandbox = false;
      return freeze(changes);
    }
    if (initContainers.length > 0) {
      changes.initContainersToStart = [0];
      return freeze(changes);
    }
    changes.containersToStart = toStart;
    return freeze(changes);
  }

  // Ephemeral containers may start before initialization completes; they are never restarted.
  changes.ephemeralContainersToStart = ephemeralContainersToStart(pod, status);

  const initialized = computeInitContainerActions(pod, status, probes, changes, resize);
  if (changes.killPod || !initialized) return freeze(changes);

  let keepCount = 0;
  containers.forEach((container, idx) => {
    const latest = findContainerStatus(status, container.name);
    if (!latest || latest.state !== 'running') {
      if (shouldContainerBeRestarted(container, pod, status)) {
        changes.containersToStart.push(idx);
        if (latest && latest.state === 'unknown') {
          changes.containersToKill.set(latest.id, {
            containerId: latest.id,
            name: container.name,
            message: `Container is in "unknown" state, try killing it before restart`,
            reason: 'Unknown',
            isInit: false,
          });
        }
      }
      return;
    }
    let message: string;
    let reason: KillReason = '';
    let restart = shouldRestartOnFailure(pod);
    if (containerChanged(container, latest)) {
      message = `Container ${container.name} definition changed`;
      restart = true; // a changed spec restarts whatever the policy
    } else if (probes.liveness(latest.id) === 'Failure') {
      message = `Container ${container.name} failed liveness probe`;
      reason = 'LivenessProbe';
    } else if (probes.startup(latest.id) === 'Failure') {
      message = `Container ${container.name} failed startup probe`;
      reason = 'StartupProbe';
    } else if (resize(container, latest) === 'restart') {
      // Restarted whatever the pod's restartPolicy, with upstream's message as it is.
      changes.containersToStart.push(idx);
      changes.containersToKill.set(latest.id, { containerId: latest.id, name: container.name, message: `Container ${container.name} resize requires restart`, reason: '', isInit: false });
      return;
    } else {
      if (resize(container, latest) === 'update') changes.containersToUpdate.push(container.name);
      keepCount++;
      return;
    }
    if (restart) {
      message = `${message}, will be restarted`;
      changes.containersToStart.push(idx);
    }
    changes.containersToKill.set(latest.id, { containerId: latest.id, name: container.name, message, reason, isInit: false });
  });

  if (keepCount === 0 && changes.containersToStart.length === 0) {
    changes.killPod = true;
    // Sidecars alone must not keep a finished pod alive.
    changes.initContainersToStart = [];
  }
  return freeze(changes);
}

/**
 * Init containers: the next regular one to run, sidecars to (re)start or kill. Returns whether the
 * pod is initialized. Walks the init containers backwards because finished ones may have been
 * garbage-collected: the latest one with a status tells how far initialization got.
 */
function computeInitContainerActions(
  pod: V1Pod,
  status: RuntimePodStatus,
  probes: ProbeResultsView,
  changes: MutableActions,
  resize: ResizeView,
): boolean {
  const initContainers = initContainersOf(pod);
  if (initContainers.length === 0) return true;

  let podHasInitialized = containersOf(pod).some((c) => {
    const s = findContainerStatus(status, c.name);
    // Exited regular containers may belong to a previous sandbox, so only created/running count.
    return s !== undefined && (s.state === 'created' || s.state === 'running');
  });
  let previouslyInitialized = podHasInitialized;
  const restartOnFailure = shouldRestartOnFailure(pod);
  const toStart: number[] = [];
  const kill = (s: RuntimeContainerStatus, c: V1Container, message: string, reason: KillReason): void => {
    changes.containersToKill.set(s.id, { containerId: s.id, name: c.name, message, reason, isInit: true });
  };

  for (let i = initContainers.length - 1; i >= 0; i--) {
    const container = initContainers[i]!;
    const sidecar = isRestartableInitContainer(container);
    const s = findContainerStatus(status, container.name);
    if (!s) {
      if (previouslyInitialized && sidecar) toStart.push(i);
      continue;
    }
    if (previouslyInitialized && !sidecar) continue;

    switch (s.state) {
      case 'created':
        // Created but never started: the start failed; try again.
        toStart.push(i);
        break;
      case 'running': {
        if (!sidecar) break; // wait for it to finish
        if (container.startupProbe) {
          const startup = probes.startup(s.id);
          if (startup === undefined) break;
          if (startup !== 'Success') {
            if (startup === 'Failure') {
              kill(s, container, `Init container ${container.name} failed startup probe`, 'StartupProbe');
              toStart.push(i);
            }
            break;
          }
        }
        if (i === initContainers.length - 1) {
          podHasInitialized = true;
        } else if (!previouslyInitialized) {
          toStart.push(i + 1);
        }
        if (containerChanged(container, s)) {
          kill(s, container, `Init container ${container.name} definition changed`, '');
          toStart.push(i);
          break;
        }
        if (container.livenessProbe) {
          const liveness = probes.liveness(s.id);
          if (liveness === 'Failure') {
            kill(s, container, `Init container ${container.name} failed liveness probe`, 'LivenessProbe');
            toStart.push(i);
            break;
          }
        }
        // A running sidecar is resized in place like a regular container.
        const verdict = resize(container, s);
        if (verdict === 'restart') {
          kill(s, container, `Init container ${container.name} resize requires restart`, '');
          toStart.push(i);
        } else if (verdict === 'update') changes.containersToUpdate.push(container.name);
        break;
      }
      case 'exited':
        if (sidecar) {
          toStart.push(i);
        } else if (isInitContainerFailed(s)) {
          if (!restartOnFailure) {
            changes.killPod = true;
            changes.initContainersToStart = [];
            return false;
          }
          toStart.push(i);
        } else if (i === initContainers.length - 1) {
          podHasInitialized = true;
        } else {
          toStart.push(i + 1);
        }
        break;
      default:
        // unknown
        if (!sidecar && !restartOnFailure) {
          changes.killPod = true;
          changes.initContainersToStart = [];
          return false;
        }
        kill(s, container, `Init container is in "unknown" state, try killing it before restart`, 'Unknown');
        toStart.push(i);
    }
    if (!previouslyInitialized) previouslyInitialized = true;
  }
  if (!previouslyInitialized) toStart.push(0);
  changes.initContainersToStart = toStart.reverse();
  return podHasInitialized;
}

function freeze(changes: MutableActions): PodActions {
  return {
    killPod: changes.killPod,
    createSandbox: changes.createSandbox,
    sandboxId: changes.sandboxId,
    attempt: changes.attempt,
    ephemeralContainersToStart: [...changes.ephemeralContainersToStart],
    initContainersToStart: [...changes.initContainersToStart],
    containersToStart: [...changes.containersToStart],
    containersToKill: [...changes.containersToKill.values()],
    containersToUpdate: [...changes.containersToUpdate],
  };
}
