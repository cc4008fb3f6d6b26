import type { V1Container, V1ContainerState, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { shouldContainerBeRestarted } from '../kuberuntime/compute-pod-actions.js';
import { findContainerStatus, type RuntimeContainerStatus, type RuntimePodStatus } from '../kuberuntime/runtime-status.js';

/**
 * Runtime container instances → API container statuses (upstream convertToAPIContainerStatuses):
 * the newest instance gives `state`, the one before it `lastState`; containers that never ran wait
 * with ContainerCreating/PodInitializing; a container the last sync failed to start waits with the
 * failure's reason (ErrImagePull, CrashLoopBackOff, ...), keeping its termination as lastState.
 */

/** Why the last start of a container failed (upstream reasonCache entry). */
export interface StartFailure {
  readonly reason: string;
  readonly message: string;
}

export const REASON_CONTAINER_CREATING = 'ContainerCreating';
export const REASON_POD_INITIALIZING = 'PodInitializing';
export const REASON_STATUS_UNKNOWN = 'ContainerStatusUnknown';

export interface ConvertOptions {
  /** CRI runtime name, the scheme of containerID ('containerd://abc'). */
  readonly runtimeName: string;
  /** Start failures by container name from the last sync. */
  readonly startFailures: ReadonlyMap<string, StartFailure>;
}

export function containerIdString(runtimeName: string, id: string): string {
  return `${runtimeName}://${id}`;
}

function toDate(ms: number): Date {
  return new Date(ms);
}

function convertInstance(cs: RuntimeContainerStatus, old: V1ContainerStatus | undefined, runtimeName: string): V1ContainerStatus {
  const cid = containerIdString(runtimeName, cs.id);
  const status: V1ContainerStatus = {
    name: cs.name,
    restartCount: cs.restartCount,
    image: cs.image,
    imageID: cs.imageRef,
    containerID: cid,
    ready: false,
    state: {},
  };
  switch (cs.state) {
    case 'running':
      status.state = { running: { startedAt: toDate(cs.startedAt) } };
      break;
    case 'created':
      // Created but not running: waiting to run, no reason of its own.
      status.state = { waiting: {} };
      break;
    case 'exited':
      status.state = {
        terminated: {
          exitCode: cs.exitCode,
          reason: cs.reason,
          message: cs.message,
          startedAt: toDate(cs.startedAt),
          finishedAt: toDate(cs.finishedAt),
          containerID: cid,
        },
      };
      break;
    default:
      if (old?.state?.running) {
        // It ran and vanished: report it terminated, not "never ran", so a run-once pod cannot run twice.
        status.state = {
          terminated: {
            reason: REASON_STATUS_UNKNOWN,
            message: 'The container could not be located when the pod was terminated',
            exitCode: 137,
          },
        };
        status.restartCount = old.restartCount + 1;
      } else {
        status.state = { waiting: {} };
      }
  }
  return status;
}

function cloneStatus(s: V1ContainerStatus): V1ContainerStatus {
  return structuredClone(s);
}

/**
 * @param containers the spec list being converted (regular or init)
 * @param previous   the status manager's last statuses for that list
 */
export function convertToApiContainerStatuses(
  pod: V1Pod,
  runtime: RuntimePodStatus,
  previous: readonly V1ContainerStatus[],
  containers: readonly V1Container[],
  hasInitContainers: boolean,
  isInitContainer: boolean,
  options: ConvertOptions,
): V1ContainerStatus[] {
  const oldByName = new Map(previous.map((s) => [s.name, s]));
  const defaultWaiting = (): V1ContainerState => ({
    waiting: { reason: hasInitContainers ? REASON_POD_INITIALIZING : REASON_CONTAINER_CREATING },
  });
  const statuses = new Map<string, V1ContainerStatus>();
  for (const c of containers) {
    const old = oldByName.get(c.name);
    if (old?.state?.terminated) {
      statuses.set(c.name, cloneStatus(old));
      continue;
    }
    const s: V1ContainerStatus = {
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: old?.restartCount ?? 0,
      state: defaultWaiting(),
    };
    if (old?.lastState) s.lastState = structuredClone(old.lastState);
    statuses.set(c.name, s);
  }

  // A container that was running and has no runtime instance any more terminated without a trace.
  for (const c of containers) {
    if (runtime.containerStatuses.some((cs) => cs.name === c.name)) continue;
    const old = oldByName.get(c.name);
    if (!old || old.state?.terminated || !old.state?.running) continue;
    const s = statuses.get(c.name)!;
    const defaultReason = hasInitContainers ? REASON_POD_INITIALIZING : REASON_CONTAINER_CREATING;
    if (s.state?.waiting?.reason !== defaultReason) continue;
    if (s.lastState?.terminated) continue;
    s.lastState = {
      terminated: {
        reason: REASON_STATUS_UNKNOWN,
        message: 'The container could not be located when the pod was deleted.  The container used to be Running',
        exitCode: 137,
      },
    };
    if (!pod.metadata?.deletionTimestamp) s.restartCount += 1;
  }

  // Newest instance → state, the one before → lastState.
  const seen = new Map<string, number>();
  for (const cs of runtime.containerStatuses) {
    if (!statuses.has(cs.name)) continue;
    const n = seen.get(cs.name) ?? 0;
    if (n >= 2) continue;
    const converted = convertInstance(cs, oldByName.get(cs.name), options.runtimeName);
    if (n === 0) {
      statuses.set(cs.name, converted);
    } else {
      statuses.get(cs.name)!.lastState = converted.state ?? {};
    }
    seen.set(cs.name, n + 1);
  }

  // A container the next sync will (re)start is Waiting with the reason its last start failed.
  for (const c of containers) {
    if (isInitContainer) {
      const latest = findContainerStatus(runtime, c.name);
      if (latest && latest.state === 'exited' && latest.exitCode === 0) continue;
    }
    if (!shouldContainerBeRestarted(c, pod, runtime)) continue;
    const failure = options.startFailures.get(c.name);
    if (!failure) continue;
    const s = statuses.get(c.name)!;
    if (s.state?.terminated) s.lastState = s.state;
    s.state = { waiting: { reason: failure.reason, message: failure.message } };
  }

  if (isInitContainer) {
    return containers.map((c) => statuses.get(c.name)!);
  }
  return [...statuses.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
