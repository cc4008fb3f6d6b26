/**
 * The kubelet's runtime-side view of one pod (upstream kubecontainer.PodStatus): what the CRI reports
 * about its sandboxes and containers, independent of the API object. computePodActions and the status
 * generator are pure functions of this plus the pod spec.
 */

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';
export type RuntimeSandboxState = 'ready' | 'notready';

export interface RuntimeContainerStatus {
  /** CRI container id. */
  readonly id: string;
  /** io.kubernetes.container.name label. */
  readonly name: string;
  readonly state: RuntimeContainerState;
  /** Wall-clock milliseconds (from the CRI's nanoseconds). */
  readonly createdAt: number;
  /** 0 when the container never started. */
  readonly startedAt: number;
  /** 0 unless exited. */
  readonly finishedAt: number;
  readonly exitCode: number;
  readonly reason: string;
  readonly message: string;
  /** Image as the user wrote it (status.image.image). */
  readonly image: string;
  /** Image reference the runtime resolved (image id / digest). */
  readonly imageRef: string;
  /** io.kubernetes.container.hash annotation. */
  readonly hash: string;
  /** io.kubernetes.container.restartCount annotation. */
  readonly restartCount: number;
  /** The cgroup settings the runtime reports applied (ContainerStatus.resources.linux); absent when it reports none. */
  readonly resources?: RuntimeContainerResources;
}

/** The part of LinuxContainerResources an in-place resize changes, as numbers. */
export interface RuntimeContainerResources {
  readonly cpuShares: number;
  readonly cpuQuota: number;
  readonly cpuPeriod: number;
  readonly memoryLimitInBytes: number;
}

export interface RuntimeSandboxStatus {
  readonly id: string;
  readonly state: RuntimeSandboxState;
  readonly attempt: number;
  readonly createdAt: number;
  /** Primary pod IP ('' when the runtime reports none). */
  readonly ip: string;
  /** Whether the sandbox was created with the node's network namespace. */
  readonly hostNetwork: boolean;
}

export interface RuntimePodStatus {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Pod IPs of the newest sandbox, primary first. */
  readonly ips: readonly string[];
  /** Newest first. */
  readonly sandboxStatuses: readonly RuntimeSandboxStatus[];
  /** Every instance of every container, newest first (by createdAt). */
  readonly containerStatuses: readonly RuntimeContainerStatus[];
}

/** The newest instance of a container by name (upstream FindContainerStatusByName). */
export function findContainerStatus(
  status: RuntimePodStatus,
  name: string,
): RuntimeContainerStatus | undefined {
  return status.containerStatuses.find((c) => c.name === name);
}

/**
 * Orders statuses newest first. Equal creation times (a runtime with coarse timestamps, or virtual time)
 * fall back to the higher restart count / attempt — the later instance — then to the id, so the order
 * is deterministic and the newest instance still comes first.
 */
export function sortNewestFirst<T extends { createdAt: number; id: string; restartCount?: number; attempt?: number }>(items: readonly T[]): T[] {
  const generation = (x: T): number => x.restartCount ?? x.attempt ?? 0;
  return [...items].sort(
    (a, b) => b.createdAt - a.createdAt || generation(b) - generation(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0),
  );
}

export function emptyRuntimePodStatus(uid: string, name: string, namespace: string): RuntimePodStatus {
  return { uid, name, namespace, ips: [], sandboxStatuses: [], containerStatuses: [] };
}
