import type { V1Container, V1Pod, V1Service } from '@kubernetes/client-node';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerConfigError } from './env.js';
import { ensurePodEtcHosts, shouldManageEtcHosts } from './etc-hosts.js';
import { isStaticPod, podName, podNamespace, podUid } from './pod-helpers.js';
import { containerLogsDirectory, restartCountFromLogDir } from './restart-count.js';
import type { RuntimeContainerStatus } from './runtime-status.js';
import { serviceEnvForPod } from './service-env.js';
import { createTerminationMessageFile } from './termination-message.js';

/**
 * What a container start needs from the node besides the spec (upstream startContainer and
 * GenerateRunContainerOptions): its restart count, its termination message file, the pod's managed
 * /etc/hosts and the service-link variables. The decisions live in the pure modules; this does the I/O.
 */

export interface ContainerStartNode {
  /** kubelet --root-dir; without one no host files are made (tests that only look at CRI calls). */
  readonly rootDir?: string;
  readonly podLogsDir: string;
  readonly clusterDomain: string;
  /**
   * The services the kubelet has listed, or null before its first list. Absent when the kubelet has no
   * API server (then pods get no service variables, as upstream without a service lister).
   */
  readonly services?: () => readonly V1Service[] | null;
  /** The node's hosts file, copied for host-network pods (default /etc/hosts). */
  readonly nodeHostsPath?: string;
  readonly log?: (msg: string) => void;
}

export interface ContainerStartInputs {
  readonly restartCount: number;
  readonly terminationMessageHostPath?: string;
  readonly etcHostsPath?: string;
  readonly serviceEnv?: ReadonlyMap<string, string>;
}

/**
 * Restart count first (before the config is generated), as upstream: the previous instance's count + 1,
 * else continue after the log files a lost runtime left behind.
 */
export async function containerRestartCount(
  pod: V1Pod,
  container: V1Container,
  previous: RuntimeContainerStatus | undefined,
  node: ContainerStartNode,
): Promise<number> {
  if (previous) return previous.restartCount + 1;
  const dir = containerLogsDirectory(node.podLogsDir, podNamespace(pod), podName(pod), podUid(pod), container.name);
  try {
    return await restartCountFromLogDir(dir);
  } catch (e) {
    node.log?.(`cannot calculate restartCount from the log directory ${dir}: ${(e as Error).message}`);
    return 0;
  }
}

/**
 * The rest, in GenerateRunContainerOptions order: service variables (an error before the first list of
 * services, except for static pods), /etc/hosts (an error if it cannot be written), the termination
 * message file (logged and left out if it cannot be made). Errors become CreateContainerConfigError.
 */
export async function prepareContainerFiles(
  pod: V1Pod,
  container: V1Container,
  /** The pod's IPs: the sandbox's, or the node's for a host-network pod (upstream podStatus.IPs). */
  podIPs: readonly string[],
  node: ContainerStartNode,
): Promise<Omit<ContainerStartInputs, 'restartCount'>> {
  let serviceEnv: ReadonlyMap<string, string> | undefined;
  if (node.services) {
    const services = node.services();
    if (services === null && !isStaticPod(pod)) {
      throw new ContainerConfigError('services have not yet been read at least once, cannot construct envvars');
    }
    serviceEnv = serviceEnvForPod(pod, services ?? []);
  }
  const root = node.rootDir;
  if (root === undefined) return serviceEnv ? { serviceEnv } : {};
  const uid = podUid(pod);
  let etcHostsPath: string | undefined;
  const mountsOwnHosts = (container.volumeMounts ?? []).some((m) => m.mountPath === '/etc/hosts');
  if (shouldManageEtcHosts(podIPs) && !mountsOwnHosts) {
    try {
      etcHostsPath = await ensurePodEtcHosts(root, pod, podIPs, node.clusterDomain, node.nodeHostsPath);
    } catch (e) {
      throw new ContainerConfigError(`writing the pod's /etc/hosts: ${(e as Error).message}`);
    }
  }
  let terminationMessageHostPath: string | undefined;
  if ((container.terminationMessagePath ?? '/dev/termination-log') !== '') {
    try {
      terminationMessageHostPath = await createTerminationMessageFile(root, uid, container.name);
    } catch (e) {
      node.log?.(`error on creating termination-log file for ${container.name}: ${(e as Error).message}`);
    }
  }
  return {
    ...(serviceEnv ? { serviceEnv } : {}),
    ...(etcHostsPath ? { etcHostsPath } : {}),
    ...(terminationMessageHostPath ? { terminationMessageHostPath } : {}),
  };
}

/**
 * Removes what prepareContainerFiles made for a pod once its containers are gone (upstream removes the
 * whole pod directory of an orphaned pod); the pod directory goes too if nothing else is left in it.
 */
export async function removeContainerFiles(rootDir: string, uid: string): Promise<void> {
  const dir = join(rootDir, 'pods', uid);
  await rm(join(dir, 'containers'), { recursive: true, force: true });
  await rm(join(dir, 'etc-hosts'), { force: true });
  try {
    await rmdir(dir);
  } catch {
    // volumes/ (or something else) still there: the volume manager cleans up its own part
  }
}
