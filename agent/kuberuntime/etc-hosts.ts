import type { V1HostAlias, V1Pod } from '@kubernetes/client-node';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { podHostnameAndDomain } from './hostname.js';
import { isHostNetwork } from './pod-helpers.js';

/**
 * The kubelet-managed /etc/hosts (upstream kubelet_pods.go makeHostsMount, ensureHostsFile,
 * managedHostsFileContent). The kubelet writes <root>/pods/<uid>/etc-hosts before each container start
 * and bind-mounts it at /etc/hosts, unless the container mounts something there itself. It needs the pod
 * IPs, known once the sandbox runs; a host-network sandbox reports none (the runtime gives such
 * containers the node's own hosts file), so those pods get no managed file.
 */

export const ETC_HOSTS_PATH = '/etc/hosts';
const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';

/** Whether the pod's containers get the managed file (upstream shouldMountHostsFile, Linux). */
export function shouldManageEtcHosts(pod: V1Pod, sandboxIPs: readonly string[]): boolean {
  return !isHostNetwork(pod) && sandboxIPs.length > 0;
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

function hostAliasEntries(aliases: readonly V1HostAlias[]): string {
  if (aliases.length === 0) return '';
  let out = '\n# Entries added by HostAliases.\n';
  for (const a of aliases) out += `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`;
  return out;
}

/** The content for `pod` with these pod IPs and the node's cluster domain. */
export function podEtcHosts(pod: V1Pod, podIPs: readonly string[], clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  return managedHostsFileContent(podIPs, hostname, domain, pod.spec?.hostAliases ?? []);
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
