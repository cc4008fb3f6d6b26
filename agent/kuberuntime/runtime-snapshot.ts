import type { ContainerStatus__Output } from '../../proto/generated/cri/runtime/v1/ContainerStatus.js';
import type { PodSandboxStatus__Output } from '../../proto/generated/cri/runtime/v1/PodSandboxStatus.js';
import { nanosToMillis } from '../runtime/nanos.js';
import { CONTAINER_HASH_ANNOTATION, CONTAINER_NAME_LABEL, CONTAINER_RESTART_COUNT_ANNOTATION } from './labels.js';
import {
  sortNewestFirst,
  type RuntimeContainerResources,
  type RuntimeContainerState,
  type RuntimeContainerStatus,
  type RuntimePodStatus,
  type RuntimeSandboxStatus,
} from './runtime-status.js';

/** CRI status messages → the kubelet's runtime view of a pod (upstream toKubeContainerStatus, GetPodStatus). */

const STATES: Record<string, RuntimeContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

function millis(nanos: string | number | undefined): number {
  if (nanos === undefined || nanos === '' || nanos === '0' || nanos === 0) return 0;
  return nanosToMillis(nanos);
}

export function toRuntimeContainerStatus(s: ContainerStatus__Output): RuntimeContainerStatus {
  const state = STATES[String(s.state)] ?? 'unknown';
  const restart = Number.parseInt(s.annotations?.[CONTAINER_RESTART_COUNT_ANNOTATION] ?? '0', 10);
  return {
    id: s.id,
    name: s.labels?.[CONTAINER_NAME_LABEL] ?? s.metadata?.name ?? '',
    state,
    createdAt: millis(s.createdAt),
    startedAt: state === 'created' ? 0 : millis(s.startedAt),
    finishedAt: state === 'exited' ? millis(s.finishedAt) : 0,
    exitCode: state === 'exited' ? s.exitCode : 0,
    reason: state === 'exited' ? s.reason : '',
    message: state === 'exited' ? s.message : '',
    image: s.image?.image ?? '',
    imageRef: s.imageId || s.imageRef,
    hash: s.annotations?.[CONTAINER_HASH_ANNOTATION] ?? '',
    restartCount: Number.isFinite(restart) ? restart : 0,
    ...(s.resources?.linux ? { resources: linuxResources(s.resources.linux) } : {}),
  };
}

function linuxResources(r: { cpuShares: string; cpuQuota: string; cpuPeriod: string; memoryLimitInBytes: string }): RuntimeContainerResources {
  const n = (v: string): number => Number(v || 0);
  return { cpuShares: n(r.cpuShares), cpuQuota: n(r.cpuQuota), cpuPeriod: n(r.cpuPeriod), memoryLimitInBytes: n(r.memoryLimitInBytes) };
}

export function toRuntimeSandboxStatus(s: PodSandboxStatus__Output): RuntimeSandboxStatus & { ips: string[] } {
  const ips = s.network ? [s.network.ip, ...s.network.additionalIps.map((a) => a.ip)].filter((ip) => ip !== '') : [];
  return {
    id: s.id,
    state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready',
    attempt: s.metadata?.attempt ?? 0,
    createdAt: millis(s.createdAt),
    ip: s.network?.ip ?? '',
    hostNetwork: s.linux?.namespaces?.options?.network === 'NODE',
    ips,
  };
}

export function buildRuntimePodStatus(
  uid: string,
  name: string,
  namespace: string,
  sandboxes: ReadonlyArray<PodSandboxStatus__Output>,
  containers: ReadonlyArray<ContainerStatus__Output>,
): RuntimePodStatus {
  const sb = sortNewestFirst(sandboxes.map(toRuntimeSandboxStatus));
  const newest = sb[0];
  // Pod IPs come from the newest sandbox, and only while it is ready.
  const ips = newest && newest.state === 'ready' ? newest.ips : [];
  return {
    uid,
    name,
    namespace,
    ips,
    sandboxStatuses: sb.map(({ ips: _ips, ...rest }) => rest),
    containerStatuses: sortNewestFirst(containers.map(toRuntimeContainerStatus)),
  };
}
