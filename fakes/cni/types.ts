/** The network configuration this plugin reads from stdin (one plugin entry of a conflist). */
export interface CniNetworkConfig {
  cniVersion: string;
  name: string;
  type: string;
  /** Result of the previous plugin in the chain (ADD/CHECK when chained; always for CHECK). */
  prevResult?: CniResult;
  /** Subnet to allocate from when running standalone, e.g. "10.88.0.0/16". */
  subnet?: string;
  /** Gateway reported in standalone results (default: first host of the subnet). */
  gateway?: string;
  /** Where IPAM state and call counters live (default /var/lib/cni/kubelet-harness-cni). */
  dataDir?: string;
  /** Unix socket of a harness journal sink; the entry is acknowledged before the result is written. */
  journalSocket?: string;
  /** When true, an unreachable sink is reported on stderr and the call goes on (default: ADD/CHECK/STATUS fail). */
  journalSocketOptional?: boolean;
  faults?: CniFaultRule[];
  /** GC (1.1): attachments still in use. */
  'cni.dev/valid-attachments'?: Array<{ containerID: string; ifname: string }>;
  [key: string]: unknown;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';

/**
 * A fault from the network config: matches a command (any when absent), the n-th call of it
 * (1-based, counted per network across processes), a seeded probability and identifying fields;
 * delays and/or fails with a CNI error code.
 */
export interface CniFaultRule {
  command?: CniCommand;
  nth?: number | number[];
  probability?: number;
  seed?: number;
  match?: { containerId?: string; ifname?: string; podName?: string; podNamespace?: string };
  delayMs?: number;
  code?: number;
  msg?: string;
  details?: string;
}

export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
  mtu?: number;
}

export interface CniIpConfig {
  address: string;
  gateway?: string;
  interface?: number;
  /** Only in 0.3.x/0.4.0 results. */
  version?: '4' | '6';
}

export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: Array<{ dst: string; gw?: string }>;
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

export interface CniEnv {
  command: CniCommand;
  containerId: string;
  netns: string;
  ifname: string;
  args: Record<string, string>;
  path: string[];
}
