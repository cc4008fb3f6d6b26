import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { ContainerConfig } from '../../proto/generated/cri/runtime/v1/ContainerConfig.js';
import type { LinuxContainerSecurityContext } from '../../proto/generated/cri/runtime/v1/LinuxContainerSecurityContext.js';
import type { Mount } from '../../proto/generated/cri/runtime/v1/Mount.js';
import { hashContainer } from './container-hash.js';
import { withPidTarget } from './ephemeral-containers.js';
import { ContainerConfigError, makeEnvironmentVariables, type EnvContext } from './env.js';
import { expandVars } from './expansion.js';
import {
  CONTAINER_HASH_ANNOTATION,
  CONTAINER_NAME_LABEL,
  CONTAINER_PORTS_ANNOTATION,
  CONTAINER_PRESTOP_HANDLER_ANNOTATION,
  CONTAINER_RESTART_COUNT_ANNOTATION,
  CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION,
  CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION,
  POD_DELETION_GRACE_PERIOD_ANNOTATION,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_TERMINATION_GRACE_PERIOD_ANNOTATION,
  POD_UID_LABEL,
  containerLogPath,
} from './labels.js';
import { podName, podNamespace, podUid } from './pod-helpers.js';
import { containerLinuxResources, type CriResourceOptions } from './resources.js';
import { podNamespaceOptions, seccompProfile } from './sandbox-config.js';

/**
 * ContainerConfig as the kubelet generates it (upstream generateContainerConfig, newContainerLabels,
 * newContainerAnnotations, makeMounts, generateLinuxContainerConfig).
 */

/** A volume as mounted on the node, by pod volume name. */
export interface MountedVolume {
  readonly hostPath: string;
  readonly readOnly?: boolean;
}

export interface ContainerConfigOptions extends Omit<EnvContext, 'pod' | 'container'> {
  readonly restartCount: number;
  /** Image reference the runtime resolved for container.image (PullImage/ImageStatus). */
  readonly imageRef: string;
  readonly volumes: ReadonlyMap<string, MountedVolume>;
  readonly resources: CriResourceOptions;
  /** Host file mounted at terminationMessagePath, when the shell created one. */
  readonly terminationMessageHostPath?: string;
  /** Kubelet-managed /etc/hosts for the pod, when the shell wrote one. */
  readonly etcHostsPath?: string;
  readonly seccompProfileRoot?: string;
  /** An ephemeral container's target: the CRI id whose PID namespace it joins. */
  readonly pidTargetId?: string;
}

/** Paths the kubelet masks / makes read-only in /proc and /sys unless the container is privileged. */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function containerLabels(pod: V1Pod, container: V1Container): Record<string, string> {
  return {
    [POD_NAME_LABEL]: podName(pod),
    [POD_NAMESPACE_LABEL]: podNamespace(pod),
    [POD_UID_LABEL]: podUid(pod),
    [CONTAINER_NAME_LABEL]: container.name,
  };
}

export function containerAnnotations(pod: V1Pod, container: V1Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [CONTAINER_HASH_ANNOTATION]: hashContainer(container),
    [CONTAINER_RESTART_COUNT_ANNOTATION]: String(restartCount),
    [CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION]: container.terminationMessagePath ?? '/dev/termination-log',
    [CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? 'File',
  };
  const deletionGrace = pod.metadata?.deletionGracePeriodSeconds;
  if (deletionGrace !== undefined && deletionGrace !== null) a[POD_DELETION_GRACE_PERIOD_ANNOTATION] = String(deletionGrace);
  const terminationGrace = pod.spec?.terminationGracePeriodSeconds;
  if (terminationGrace !== undefined && terminationGrace !== null) a[POD_TERMINATION_GRACE_PERIOD_ANNOTATION] = String(terminationGrace);
  if (container.lifecycle?.preStop) a[CONTAINER_PRESTOP_HANDLER_ANNOTATION] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports && container.ports.length > 0) a[CONTAINER_PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return a;
}

const PROPAGATION = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
} as const;

export function containerMounts(container: V1Container, options: Pick<ContainerConfigOptions, 'volumes' | 'terminationMessageHostPath' | 'etcHostsPath'>): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const volume = options.volumes.get(vm.name);
    if (!volume) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    if (vm.subPath && (vm.subPath.startsWith('/') || vm.subPath.split('/').includes('..'))) {
      throw new ContainerConfigError(`volumeMounts.subPath "${vm.subPath}" must be a relative path without '..'`);
    }
    const propagation = PROPAGATION[(vm.mountPropagation ?? 'None') as keyof typeof PROPAGATION];
    if (!propagation) throw new ContainerConfigError(`volumeMounts.mountPropagation: unsupported value "${vm.mountPropagation}"`);
    mounts.push({
      containerPath: vm.mountPath,
      hostPath: vm.subPath ? `${volume.hostPath}/${vm.subPath}` : volume.hostPath,
      readonly: vm.readOnly === true || volume.readOnly === true,
      propagation,
    });
  }
  const mountsEtcHosts = mounts.some((m) => m.containerPath === '/etc/hosts');
  if (options.etcHostsPath && !mountsEtcHosts) {
    mounts.push({ containerPath: '/etc/hosts', hostPath: options.etcHostsPath, readonly: false, propagation: 'PROPAGATION_PRIVATE' });
  }
  const terminationPath = container.terminationMessagePath ?? '/dev/termination-log';
  if (options.terminationMessageHostPath && terminationPath !== '') {
    mounts.push({ containerPath: terminationPath, hostPath: options.terminationMessageHostPath, readonly: false, propagation: 'PROPAGATION_PRIVATE' });
  }
  return mounts;
}

function containerSecurityContext(pod: V1Pod, container: V1Container, seccompRoot: string, pidTargetId?: string): LinuxContainerSecurityContext {
  const psc = pod.spec?.securityContext;
  const csc = container.securityContext;
  const privileged = csc?.privileged === true;
  const sc: LinuxContainerSecurityContext = {
    privileged,
    namespaceOptions: withPidTarget(podNamespaceOptions(pod), pidTargetId),
    readonlyRootfs: csc?.readOnlyRootFilesystem === true,
    noNewPrivs: csc?.allowPrivilegeEscalation === false,
    maskedPaths: privileged || csc?.procMount === 'Unmasked' ? [] : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: privileged || csc?.procMount === 'Unmasked' ? [] : [...DEFAULT_READONLY_PATHS],
  };
  const runAsUser = csc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) sc.runAsUser = { value: runAsUser };
  const runAsGroup = csc?.runAsGroup ?? psc?.runAsGroup;
  if (runAsGroup !== undefined) sc.runAsGroup = { value: runAsGroup };
  if (psc?.supplementalGroups) sc.supplementalGroups = [...psc.supplementalGroups];
  if (csc?.capabilities) {
    sc.capabilities = { addCapabilities: [...(csc.capabilities.add ?? [])], dropCapabilities: [...(csc.capabilities.drop ?? [])] };
  }
  const seccomp = seccompProfile(csc?.seccompProfile ?? psc?.seccompProfile, seccompRoot);
  if (seccomp) sc.seccomp = seccomp;
  return sc;
}

export function generateContainerConfig(pod: V1Pod, container: V1Container, options: ContainerConfigOptions): ContainerConfig {
  const envs = makeEnvironmentVariables({ ...options, pod, container });
  const envMap = new Map(envs.map((e) => [e.key, e.value]));
  const expand = (s: string): string => expandVars(s, (name) => envMap.get(name));
  return {
    metadata: { name: container.name, attempt: options.restartCount },
    image: { image: options.imageRef, userSpecifiedImage: container.image ?? '' },
    command: (container.command ?? []).map(expand),
    args: (container.args ?? []).map(expand),
    workingDir: container.workingDir ?? '',
    labels: containerLabels(pod, container),
    annotations: containerAnnotations(pod, container, options.restartCount),
    mounts: containerMounts(container, options),
    logPath: containerLogPath(container.name, options.restartCount),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    envs: envs.map((e) => ({ key: e.key, value: e.value })),
    linux: {
      resources: containerLinuxResources(pod, container, options.resources),
      securityContext: containerSecurityContext(pod, container, options.seccompProfileRoot ?? '/var/lib/kubelet/seccomp', options.pidTargetId),
    },
  };
}
