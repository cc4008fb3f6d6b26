import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../agent/clock/clock.js';
import { CNI_PLUGIN_NAME } from '../cni/install.js';
import { runCniPlugin } from '../cni/plugin.js';
import type { CniFaultRule, CniNetworkConfig, CniResult } from '../cni/types.js';
import type { Journal } from '../journal/journal.js';
import type { SinkEntry } from '../journal/sink-client.js';

/** What the runtime knows about a sandbox when it sets up or tears down its network. */
export interface SandboxNetworkSubject {
  readonly sandboxId: string;
  readonly podName: string;
  readonly podNamespace: string;
  readonly podUid: string;
  /** The loopback address the fake allocated for the pod. */
  readonly ip: string;
  /** Prefix length of the fake's pod CIDR. */
  readonly prefix: number;
}

/** How the fake runtime attaches a pod network: containerd's setupPodNetwork/teardownPodNetwork. */
export interface SandboxNetwork {
  /** CNI ADD; resolves with the pod IP the result reports. Rejects with a message naming the plugin. */
  setUp(subject: SandboxNetworkSubject): Promise<string>;
  /** CNI DEL (with no netns path once the namespace was removed); rejects with a message naming the plugin. */
  tearDown(subject: SandboxNetworkSubject, options?: { netnsRemoved?: boolean }): Promise<void>;
  close(): void;
}

export interface CniSandboxNetworkOptions {
  readonly journal: Journal;
  readonly clock: Clock;
  /** Network name in the config the plugin reads (default 'fake-cri-loopback'). */
  readonly networkName?: string;
  /** CNI fault rules for the plugin (see fakes/cni/faults.ts); they keep call counters under dataDir. */
  readonly faults?: readonly CniFaultRule[];
  /** Plugin state directory; default a private temp dir, made only when faults need one. */
  readonly dataDir?: string;
}

const CNI_VERSION = '1.0.0';

/**
 * The fake runtime's pod network through the project's CNI plugin, run in-process with the same code
 * the exec'd plugin runs. The fake's loopback IP allocation plays the first plugin of the chain (the
 * part bridge + host-local play under containerd): its address is the prevResult, and the project
 * plugin is chained after it, so ADD/DEL land in the journal (source 'cni') in the place containerd's
 * would: ADD before RunPodSandbox answers, DEL while StopPodSandbox runs.
 */
export function cniSandboxNetwork(options: CniSandboxNetworkOptions): SandboxNetwork {
  const name = options.networkName ?? 'fake-cri-loopback';
  const faults = options.faults ?? [];
  let ownDataDir: string | undefined;
  const dataDir = (): string | undefined => {
    if (options.dataDir) return options.dataDir;
    if (faults.length === 0) return undefined;
    ownDataDir ??= mkdtempSync(join(tmpdir(), 'fake-cri-cni-'));
    return ownDataDir;
  };

  // The config is handed over as the object it would be serialised from (the plugin checks it as it
  // checks decoded stdin): a JSON round trip per call was a measurable share of a sandbox's lifecycle.
  let baseConfig: CniNetworkConfig | undefined;
  const configFor = (prevResult?: CniResult): CniNetworkConfig => {
    if (!baseConfig) {
      const dir = dataDir();
      baseConfig = {
        cniVersion: CNI_VERSION,
        name,
        type: CNI_PLUGIN_NAME,
        ...(dir ? { dataDir: dir } : {}),
        ...(faults.length > 0 ? { faults: [...faults] } : {}),
      };
    }
    return prevResult ? { ...baseConfig, prevResult } : baseConfig;
  };
  const sleep = (ms: number): Promise<void> => options.clock.sleep(ms);
  const journal = (entry: SinkEntry): void => void options.journal.append(entry);

  const invoke = async (command: 'ADD' | 'DEL', s: SandboxNetworkSubject, prevResult?: CniResult, netns = netnsPath(s.sandboxId)): Promise<CniResult | undefined> => {
    const outcome = await runCniPlugin({
      env: {
        CNI_COMMAND: command,
        CNI_CONTAINERID: s.sandboxId,
        CNI_NETNS: netns,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/opt/cni/bin',
        // What containerd's CRI plugin passes (pkg/cri/server: cniNamespaceOpts), so subjects match.
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${s.podNamespace};K8S_POD_NAME=${s.podName};K8S_POD_INFRA_CONTAINER_ID=${s.sandboxId};K8S_POD_UID=${s.podUid}`,
      },
      stdin: configFor(prevResult),
      sleep,
      journal,
    });
    const verb = command === 'ADD' ? 'add' : 'delete';
    if (outcome.exitCode !== 0) {
      // libcni's wording, which containerd wraps: the plugin's type and network name, then its message.
      throw new Error(`plugin type="${CNI_PLUGIN_NAME}" name="${name}" failed (${verb}): ${errorMessage(outcome.stdout)}`);
    }
    if (command === 'DEL') return undefined;
    return outcome.result as CniResult | undefined;
  };

  return {
    async setUp(s) {
      const prev: CniResult = {
        cniVersion: CNI_VERSION,
        interfaces: [{ name: 'eth0', sandbox: netnsPath(s.sandboxId) }],
        ips: [{ address: `${s.ip}/${s.prefix}`, interface: 0 }],
        routes: [],
        dns: {},
      };
      const result = await invoke('ADD', s, prev);
      // Like containerd, the pod IP is the one the result reports.
      const address = result?.ips?.[0]?.address ?? '';
      const ip = address.split('/')[0] ?? '';
      if (!ip) throw new Error(`plugin type="${CNI_PLUGIN_NAME}" name="${name}" failed (add): the result has no IP address`);
      return ip;
    },
    async tearDown(s, opts = {}) {
      await invoke('DEL', s, undefined, opts.netnsRemoved ? '' : netnsPath(s.sandboxId));
    },
    close() {
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
      ownDataDir = undefined;
      baseConfig = undefined;
    },
  };
}

/** A network namespace path in containerd's form; nothing is created there (the fake's network is loopback). */
export function netnsPath(sandboxId: string): string {
  return `/var/run/netns/cni-${sandboxId.slice(0, 8)}-${sandboxId.slice(8, 12)}-${sandboxId.slice(12, 16)}`;
}

function errorMessage(stdout: string): string {
  try {
    const e = JSON.parse(stdout) as { msg?: unknown; details?: unknown };
    const msg = typeof e.msg === 'string' ? e.msg : stdout;
    return typeof e.details === 'string' && e.details ? `${msg}; ${e.details}` : msg;
  } catch {
    return stdout;
  }
}
