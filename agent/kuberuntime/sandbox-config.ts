import type { V1Pod } from '@kubernetes/client-node';
import type { PodSandboxConfig } from '../../proto/generated/cri/runtime/v1/PodSandboxConfig.js';
import type { PortMapping } from '../../proto/generated/cri/runtime/v1/PortMapping.js';
import type { NamespaceOption } from '../../proto/generated/cri/runtime/v1/NamespaceOption.js';
import type { LinuxSandboxSecurityContext } from '../../proto/generated/cri/runtime/v1/LinuxSandboxSecurityContext.js';
import type { SecurityProfile } from '../../proto/generated/cri/runtime/v1/SecurityProfile.js';
import { podQOSClass } from '../resources/qos.js';
import { podCgroupParent, type CgroupDriver } from './cgroup-name.js';
import { podDnsConfig, type DnsSettings } from './dns.js';
import { kernelHostname } from './hostname.js';
import { DEFAULT_POD_LOGS_DIR, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL, podLogsDirectory } from './labels.js';
import { containersOf, initContainersOf, isHostNetwork, podName, podNamespace, podUid } from './pod-helpers.js';
import { sandboxLinuxResources, sandboxOverheadResources, type CriResourceOptions } from './resources.js';

/**
 * PodSandboxConfig as the kubelet generates it (upstream kuberuntime_sandbox.go generatePodSandboxConfig
 * and generatePodSandboxLinuxConfig): metadata, pod labels plus the kubelet's, pod annotations, hostname,
 * log directory, DNS, port mappings, cgroup parent by QoS, namespaces, sysctls and resources.
 */

export interface SandboxConfigOptions {
  readonly attempt: number;
  readonly cgroupDriver: CgroupDriver;
  readonly cgroupsPerQOS?: boolean;
  readonly podLogsDir?: string;
  readonly dns: DnsSettings;
  readonly resources: CriResourceOptions;
  /** Directory of localhost seccomp profiles (<root-dir>/seccomp). */
  readonly seccompProfileRoot?: string;
}

const PROTOCOLS = new Set(['TCP', 'UDP', 'SCTP']);

/** Every container port of the regular containers, as CRI port mappings (upstream MakePortMappings, deduplicated). */
export function podPortMappings(pod: V1Pod): PortMapping[] {
  const seen = new Set<string>();
  const out: PortMapping[] = [];
  containersOf(pod).forEach((c, ci) => {
    (c.ports ?? []).forEach((p, pi) => {
      const protocol = p.protocol ?? 'TCP';
      if (!PROTOCOLS.has(protocol)) {
        throw new Error(`spec.containers[${ci}].ports[${pi}].protocol: unsupported value "${protocol}"`);
      }
      const key = `${protocol}/${p.containerPort}/${p.hostPort ?? 0}/${p.hostIP ?? ''}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ protocol: protocol as 'TCP' | 'UDP' | 'SCTP', containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp: p.hostIP ?? '' });
    });
  });
  return out;
}

/** Namespace modes for the pod (upstream namespacesForPod). */
export function podNamespaceOptions(pod: V1Pod): NamespaceOption {
  const spec = pod.spec;
  return {
    network: isHostNetwork(pod) ? 'NODE' : 'POD',
    pid: spec?.hostPID === true ? 'NODE' : spec?.shareProcessNamespace === true ? 'POD' : 'CONTAINER',
    ipc: spec?.hostIPC === true ? 'NODE' : 'POD',
  };
}

export function seccompProfile(
  profile: { type: string; localhostProfile?: string } | undefined,
  root: string,
): SecurityProfile | null {
  if (!profile) return null;
  switch (profile.type) {
    case 'RuntimeDefault':
      return { profileType: 'RuntimeDefault' };
    case 'Unconfined':
      return { profileType: 'Unconfined' };
    case 'Localhost':
      return { profileType: 'Localhost', localhostRef: `${root.replace(/\/+$/, '')}/${profile.localhostProfile ?? ''}` };
    default:
      throw new Error(`securityContext.seccompProfile.type: unsupported value "${profile.type}"`);
  }
}

function anyPrivileged(pod: V1Pod): boolean {
  return [...initContainersOf(pod), ...containersOf(pod)].some((c) => c.securityContext?.privileged === true);
}

export function podSandboxLabels(pod: V1Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [POD_NAME_LABEL]: podName(pod),
    [POD_NAMESPACE_LABEL]: podNamespace(pod),
    [POD_UID_LABEL]: podUid(pod),
  };
}

export function generatePodSandboxConfig(pod: V1Pod, options: SandboxConfigOptions): PodSandboxConfig {
  const sc = pod.spec?.securityContext;
  const config: PodSandboxConfig = {
    metadata: { name: podName(pod), namespace: podNamespace(pod), uid: podUid(pod), attempt: options.attempt },
    labels: podSandboxLabels(pod),
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    logDirectory: podLogsDirectory(options.podLogsDir ?? DEFAULT_POD_LOGS_DIR, podNamespace(pod), podName(pod), podUid(pod)),
    dnsConfig: podDnsConfig(pod, options.dns),
    portMappings: podPortMappings(pod),
  };
  if (!isHostNetwork(pod)) config.hostname = kernelHostname(pod, options.dns.clusterDomain);

  const securityContext: LinuxSandboxSecurityContext = {
    namespaceOptions: podNamespaceOptions(pod),
    privileged: anyPrivileged(pod),
  };
  if (sc?.runAsUser !== undefined) securityContext.runAsUser = { value: sc.runAsUser };
  if (sc?.runAsGroup !== undefined) securityContext.runAsGroup = { value: sc.runAsGroup };
  if (sc?.supplementalGroups) securityContext.supplementalGroups = [...sc.supplementalGroups];
  const seccomp = seccompProfile(sc?.seccompProfile, options.seccompProfileRoot ?? '/var/lib/kubelet/seccomp');
  if (seccomp) securityContext.seccomp = seccomp;

  const sysctls: Record<string, string> = {};
  for (const s of sc?.sysctls ?? []) sysctls[s.name] = s.value;

  config.linux = {
    cgroupParent: podCgroupParent(podQOSClass(pod, options.resources), podUid(pod), options.cgroupDriver, options.cgroupsPerQOS ?? true),
    securityContext,
    sysctls,
    resources: sandboxLinuxResources(pod, options.resources),
    overhead: sandboxOverheadResources(pod, options.resources),
  };
  return config;
}
