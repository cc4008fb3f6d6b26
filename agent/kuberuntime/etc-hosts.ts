import type { V1HostAlias, V1Pod } from '@kubernetes/client-node';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { podHostnameAndDomain } from './hostname.js';
import { isHostNetwork, podUid } from './pod-helpers.js';

/**
 * The kubelet-managed /etc/hosts (upstream kubelet_pods.go makeHostsMount, ensureHostsFile,
 * managedHostsFileContent, nodeHostsFileContent). The kubelet writes <root>/pods/<uid>/etc-hosts before
 * each container start and bind-mounts it at /etc/hosts, unless the container mounts something there
 * itself, once the pod has IPs. A pod on the pod network gets a file naming its IPs; a host-network pod
 * (whose IPs are the node's) gets a copy of the node's own hosts file under a header of its own, both
 * followed by the pod's hostAliases.
 */

export const ETC_HOSTS_PATH = '/etc/hosts';
/** Where the node's own hosts file is (upstream etcHostsPath on Linux); injectable for tests. */
export const NODE_ETC_HOSTS_PATH = '/etc/hosts';
const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/**
 * Whether the pod's containers get the managed file (upstream makeMounts, Linux): once the pod has IPs,
 * which for a host-network pod are the node's. A container mounting its own /etc/hosts is the caller's
 * check.
 */
export function shouldManageEtcHosts(podIPs: readonly string[]): boolean {
  return podIPs.length > 0;
}

/**
 * The file: localhost entries, one line per pod IP naming the pod (`<ip>\t<host>.<domain>\t<host>` with a
 * subdomain, `<ip>\t<host>` without), then the pod's hostAliases, each IP on one line.
 */
export function managedHostsFileContent(podIPs: readonly string[], hostname: string, domain: string, aliases: readonly V1HostAlias[] = []): string {
  let out = MANAGED_HOSTS_HEADER;
  out += '127.0.0.1\tlocalhost\n';
  out += '::1\tlocalhost ip6-localhost ip6-loopback\n';
  out += 'fe00::0\tip6-localnet\n';
  out += 'fe00::0\tip6-mcastprefix\n';
  out += 'fe00::1\tip6-allnodes\n';
  out += 'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs) out += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return out + hostAliasEntries(aliases);
}

/** A host-network pod's file: the header, the node's hosts file as it is, then the hostAliases. */
export function nodeHostsFileContent(nodeHosts: string, aliases: readonly V1HostAlias[] = []): string {
  return MANAGED_HOSTS_HEADER_HOST_NETWORK + nodeHosts + hostAliasEntries(aliases);
}

function hostAliasEntries(aliases: readonly V1HostAlias[]): string {
  if (aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

/**
 * The content for `pod` with these pod IPs and the node's cluster domain; a host-network pod's is built
 * from `nodeHosts`, the node's hosts file (required for those pods).
 */
export function podEtcHosts(pod: V1Pod, podIPs: readonly string[], clusterDomain: string, nodeHosts?: string): string {
  const aliases = pod.spec?.hostAliases ?? [];
  if (isHostNetwork(pod)) {
    if (nodeHosts === undefined) throw new Error("a host-network pod's /etc/hosts is built from the node's hosts file");
    return nodeHostsFileContent(nodeHosts, aliases);
  }
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  return managedHostsFileContent(podIPs, hostname, domain, aliases);
}

/** upstream getEtcHostsPath: <root>/pods/<uid>/etc-hosts. */
export function etcHostsFilePath(rootDir: string, podUid: string): string {
  return join(rootDir, 'pods', podUid, 'etc-hosts');
}

/**
 * Writes (or rewrites) the file, mode 0644, and returns its path. Synchronous calls (a small local
 * file, as upstream's plain syscalls): on a container's start path, three thread-pool round trips
 * cost milliseconds under load where the calls take microseconds.
 */
export async function writeEtcHosts(rootDir: string, podUid: string, content: string): Promise<string> {
  const path = etcHostsFilePath(rootDir, podUid);
  mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
  writeFileSync(path, content, { mode: 0o644 });
  chmodSync(path, 0o644);
  return path;
}

/**
 * upstream ensureHostsFile: (re)writes the pod's file for this start and returns its path. For a
 * host-network pod the node's hosts file (at `nodeHostsPath`) is read each time, so a change to it
 * reaches the next container started; an unreadable one fails the start.
 */
export async function ensurePodEtcHosts(
  rootDir: string,
  pod: V1Pod,
  podIPs: readonly string[],
  clusterDomain: string,
  nodeHostsPath: string = NODE_ETC_HOSTS_PATH,
): Promise<string> {
  const nodeHosts = isHostNetwork(pod) ? readFileSync(nodeHostsPath, 'utf8') : undefined;
  return writeEtcHosts(rootDir, podUid(pod), podEtcHosts(pod, podIPs, clusterDomain, nodeHosts));
}
