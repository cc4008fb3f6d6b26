import type { V1Container, V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import type { NamespaceOption } from '../../proto/generated/cri/runtime/v1/NamespaceOption.js';
import { findContainerStatus, type RuntimePodStatus } from './runtime-status.js';

/**
 * Ephemeral containers (`kubectl debug`) as the kubelet runs them: each one is started once, after the
 * sandbox and before init containers, and never restarted; one with a targetContainerName joins that
 * container's process namespace. Pure helpers; runtime-manager carries them out.
 */

/** spec.ephemeralContainers as containers (upstream converts EphemeralContainerCommon to a Container). */
export function ephemeralContainersOf(pod: V1Pod): V1Container[] {
  return (pod.spec?.ephemeralContainers ?? []).map(asContainer);
}

function asContainer(ec: V1EphemeralContainer): V1Container {
  const { targetContainerName: _target, ...common } = ec;
  return common;
}

/**
 * Indices of the ephemeral containers the runtime has no instance of: every one is started once, and
 * one that exited (or whose instance is gone) is not started again (upstream computePodActions).
 */
export function ephemeralContainersToStart(pod: V1Pod, runtime: RuntimePodStatus): number[] {
  const out: number[] = [];
  (pod.spec?.ephemeralContainers ?? []).forEach((ec, idx) => {
    if (!findContainerStatus(runtime, ec.name)) out.push(idx);
  });
  return out;
}

export class TargetContainerError extends Error {
  override readonly name = 'TargetContainerError';
}

/**
 * The CRI id of the container whose process namespace ephemeral container `index` targets: undefined
 * without a target; an error when the target is not running (upstream getTargetID), which fails the
 * start with CreateContainerConfigError and is retried by a later sync.
 */
export function targetContainerId(pod: V1Pod, index: number, runtime: RuntimePodStatus): string | undefined {
  const target = pod.spec?.ephemeralContainers?.[index]?.targetContainerName;
  if (!target) return undefined;
  const status = findContainerStatus(runtime, target);
  if (!status || status.state !== 'running') throw new TargetContainerError(`unable to find target container ${target}`);
  return status.id;
}

/**
 * The namespaces of a container that targets `targetId`: the target's PID namespace, unless the pod
 * already shares one (shareProcessNamespace or hostPID), which then stays as it is.
 */
export function withPidTarget(options: NamespaceOption, targetId: string | undefined): NamespaceOption {
  if (targetId === undefined || options.pid !== 'CONTAINER') return options;
  return { ...options, pid: 'TARGET', targetId };
}
