import type { V1Pod } from '@kubernetes/client-node';
import { isHostNetwork, podNamespace } from './pod-helpers.js';

/**
 * The DNS configuration the kubelet hands to RunPodSandbox (upstream pkg/kubelet/network/dns/dns.go
 * GetPodDNS): by dnsPolicy from the cluster DNS settings or the host's resolv.conf, then the pod's own
 * dnsConfig merged in, then trimmed to resolver limits.
 */

export interface ResolvConf {
  readonly servers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface DnsSettings {
  /** KubeletConfiguration.clusterDNS. */
  readonly clusterDNS: readonly string[];
  /** KubeletConfiguration.clusterDomain ('' when unset). */
  readonly clusterDomain: string;
  /** Parsed resolvConf file, or null when resolvConf is '' (DNS lookups effectively disabled). */
  readonly hostResolvConf: ResolvConf | null;
}

export interface PodDnsConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

export const MAX_DNS_NAMESERVERS = 3;
export const MAX_DNS_SEARCH_PATHS = 32;
export const MAX_DNS_SEARCH_LIST_CHARS = 2048;
const DEFAULT_CLUSTER_OPTIONS = ['ndots:5'];

/** Parses resolv.conf text: nameserver lines, the last search/domain line, options. */
export function parseResolvConf(text: string): ResolvConf {
  const servers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...fields] = line.split(/\s+/);
    if (key === 'nameserver' && fields[0]) servers.push(fields[0]);
    else if (key === 'search') searches = fields.map((f) => f.replace(/\.$/, '') || f);
    else if (key === 'domain' && fields[0]) searches = [fields[0]];
    else if (key === 'options') options.push(...fields);
  }
  return { servers, searches, options };
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

function mergeOptions(existing: readonly string[], podOptions: ReadonlyArray<{ name?: string; value?: string }>): string[] {
  const merged = new Map<string, string>();
  for (const op of existing) {
    const at = op.indexOf(':');
    if (at >= 0) merged.set(op.slice(0, at), op.slice(at + 1));
    else merged.set(op, '');
  }
  for (const op of podOptions) {
    if (!op.name) continue;
    merged.set(op.name, op.value ?? '');
  }
  return [...merged].map(([name, value]) => (value === '' ? name : `${name}:${value}`));
}

type DnsType = 'none' | 'cluster' | 'host';

function dnsTypeOf(pod: V1Pod): DnsType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  switch (policy) {
    case 'None':
      return 'none';
    case 'ClusterFirstWithHostNet':
      return 'cluster';
    case 'ClusterFirst':
      return isHostNetwork(pod) ? 'host' : 'cluster';
    case 'Default':
      return 'host';
    default:
      throw new Error(`spec.dnsPolicy: unsupported value "${policy}"`);
  }
}

export function podDnsConfig(pod: V1Pod, settings: DnsSettings): PodDnsConfig {
  const host = settings.hostResolvConf;
  let cfg: PodDnsConfig = { servers: [...(host?.servers ?? [])], searches: [...(host?.searches ?? [])], options: [...(host?.options ?? [])] };
  let type = dnsTypeOf(pod);
  if (type === 'none') cfg = { servers: [], searches: [], options: [] };
  if (type === 'cluster') {
    if (settings.clusterDNS.length > 0) {
      const domain = settings.clusterDomain;
      const clusterSearch = domain ? [`${podNamespace(pod)}.svc.${domain}`, `svc.${domain}`, domain] : [];
      cfg = { servers: [...settings.clusterDNS], searches: unique([...clusterSearch, ...cfg.searches]), options: [...DEFAULT_CLUSTER_OPTIONS] };
    } else {
      type = 'host'; // no cluster DNS configured: fall back to the host's settings
    }
  }
  if (type === 'host' && host === null) {
    cfg = { servers: ['127.0.0.1'], searches: ['.'], options: [] };
  }
  const own = pod.spec?.dnsConfig;
  if (own) {
    cfg = {
      servers: unique([...cfg.servers, ...(own.nameservers ?? [])]),
      searches: unique([...cfg.searches, ...(own.searches ?? [])]),
      options: mergeOptions(cfg.options, own.options ?? []),
    };
  }
  return fitLimits(cfg);
}

function fitLimits(cfg: PodDnsConfig): PodDnsConfig {
  const servers = cfg.servers.slice(0, MAX_DNS_NAMESERVERS);
  let searches = cfg.searches.slice(0, MAX_DNS_SEARCH_PATHS);
  while (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) searches = searches.slice(0, -1);
  return { servers, searches, options: cfg.options };
}
