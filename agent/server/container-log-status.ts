/**
 * Which container instance `kubectl logs` reads, from the pod's status (upstream kubelet_pods.go
 * validateContainerLogStatus): the running one, else the one that terminated last; with `previous`
 * the instance before the current one. Pure; the messages are upstream's, as kubectl shows them.
 */
import type { V1ContainerStatus, V1PodStatus } from '@kubernetes/client-node';

export type LogContainerChoice = { readonly containerId: string } | { readonly error: string };

export function containerForLogs(podName: string, status: V1PodStatus, containerName: string, previous: boolean): LogContainerChoice {
  const find = (list: V1ContainerStatus[] | undefined): V1ContainerStatus | undefined => list?.find((s) => s.name === containerName);
  const cs = find(status.containerStatuses) ?? find(status.initContainerStatuses) ?? find(status.ephemeralContainerStatuses);
  const c = JSON.stringify(containerName);
  const p = JSON.stringify(podName);
  if (!cs) return { error: `container ${c} in pod ${p} is not available` };
  const last = cs.lastState?.terminated;
  const { waiting, running, terminated } = cs.state ?? {};
  if (previous) {
    if (!last?.containerID) return { error: `previous terminated container ${c} in pod ${p} not found` };
    return { containerId: last.containerID };
  }
  if (running) return { containerId: cs.containerID ?? '' };
  if (terminated) {
    // The next instance did not start: the terminated state has no ID, the last one may.
    if (terminated.containerID) return { containerId: terminated.containerID };
    if (last?.containerID) return { containerId: last.containerID };
    return { error: `container ${c} in pod ${p} is terminated` };
  }
  if (last) {
    if (!last.containerID) return { error: `container ${c} in pod ${p} is terminated` };
    return { containerId: last.containerID };
  }
  if (waiting) {
    if (waiting.reason === 'ErrImagePull') return { error: `container ${c} in pod ${p} is waiting to start: image can't be pulled` };
    if (waiting.reason === 'ImagePullBackOff') return { error: `container ${c} in pod ${p} is waiting to start: trying and failing to pull image` };
    return { error: `container ${c} in pod ${p} is waiting to start: ${waiting.reason ?? ''}` };
  }
  return { error: `container ${c} in pod ${p} is waiting to start - no logs yet` };
}

/** The runtime's ID from a status containerID (`containerd://abc` → `abc`), as kubecontainer.ParseContainerID. */
export function runtimeContainerId(containerID: string): string {
  const at = containerID.indexOf('://');
  return at < 0 ? containerID : containerID.slice(at + 3);
}
