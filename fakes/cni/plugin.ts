import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sendToJournalSink, type SinkEntry } from '../journal/sink-client.js';
import { CniError, CniErrorCode } from './errors.js';
import { claimCallNumber, pickFault, validateFaultRules } from './faults.js';
import { FileIpam, intToIp, parseSubnet } from './ipam.js';
import type { CniCommand, CniEnv, CniNetworkConfig, CniResult } from './types.js';
import { LATEST_VERSION, SUPPORTED_VERSIONS, checkVersion, resultForVersion } from './version.js';

export const DEFAULT_DATA_DIR = '/var/lib/cni/kubelet-harness-cni';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

export interface PluginInvocation {
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The network config as the runtime writes it to stdin. In-process callers may pass the object they
   * would serialise instead: it is checked exactly as the decoded text is, without the JSON round trip.
   */
  stdin: string | Readonly<Record<string, unknown>>;
  /** How fault delays wait (real time in the plugin process; injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * In-process callers (the fake CRI) hand the entry straight to their journal instead of a socket;
   * when set it replaces `journalSocket`.
   */
  journal?: (entry: SinkEntry) => void;
}

export interface PluginOutcome {
  stdout: string;
  exitCode: number;
  /** Diagnostics that are not part of the protocol (e.g. a journal sink that was unreachable on DEL). */
  stderr: string;
  /** On success, the result `stdout` serialises (for in-process callers, which need not parse it back). */
  result?: CniResult | object;
}

/**
 * One invocation of the kubelet-harness CNI plugin: the CNI protocol (env + stdin → stdout + exit
 * code) for spec 0.3.0–1.1.0. Standalone it allocates an address from `subnet` with file-based IPAM;
 * chained (prevResult present) it passes the previous result through. Every call except a bare
 * VERSION is journaled through `journalSocket` before the result is written.
 */
export async function runCniPlugin(inv: PluginInvocation): Promise<PluginOutcome> {
  const sleep = inv.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let cniVersion = LATEST_VERSION;
  let config: CniNetworkConfig | undefined;
  let env: CniEnv | undefined;
  let stderr = '';
  let outcome: { result?: CniResult | object; error?: CniError };
  try {
    const command = readCommand(inv.env);
    if (command === 'VERSION') {
      // libcni sends {"cniVersion": ...}; the answer lists every version, whatever was asked.
      return { stdout: JSON.stringify({ cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0, stderr };
    }
    config = typeof inv.stdin === 'string' ? parseConfig(inv.stdin) : checkConfig(inv.stdin);
    cniVersion = config.cniVersion;
    checkVersion(config.cniVersion, command);
    env = readEnv(command, inv.env);
    outcome = await execute(config, env, sleep);
  } catch (err) {
    outcome = { error: err instanceof CniError ? err : new CniError(CniErrorCode.Internal, (err as Error).message) };
  }

  if (inv.journal && config && env) inv.journal(journalEntry(config, env, outcome));
  else if (config?.journalSocket && env) {
    try {
      await sendToJournalSink(config.journalSocket, journalEntry(config, env, outcome));
    } catch (err) {
      const message = `journal sink unavailable: ${(err as Error).message}`;
      // Teardown must not fail for want of a journal, nor anything when the config says the sink is optional
      // (a harness that journals only while its specs run); otherwise a missing journal is an error.
      if (env.command === 'DEL' || env.command === 'GC' || config.journalSocketOptional === true) stderr += `${message}\n`;
      else if (!outcome.error) outcome = { error: new CniError(CniErrorCode.IoFailure, message) };
    }
  }
  if (outcome.error) return { stdout: JSON.stringify(outcome.error.toResult(cniVersion)), exitCode: 1, stderr };
  const result = outcome.result;
  if (!result) return { stdout: '', exitCode: 0, stderr };
  // Serialised when read: an in-process caller takes `result` and never needs the text.
  let stdout: string | undefined;
  return {
    get stdout() {
      return (stdout ??= JSON.stringify(result));
    },
    exitCode: 0,
    stderr,
    result,
  };
}

async function execute(
  config: CniNetworkConfig,
  env: CniEnv,
  sleep: (ms: number) => Promise<void>,
): Promise<{ result?: CniResult | object }> {
  // Only faults and IPAM keep state; a chained ADD/DEL without faults never needs the path.
  const stateDir = (): string => join(config.dataDir ?? DEFAULT_DATA_DIR, config.name);
  const faults = validateFaultRules(config.faults);
  if (faults.length > 0) {
    const rule = pickFault(faults, { env, callNumber: claimCallNumber(join(stateDir(), 'calls'), env.command) });
    if (rule?.delayMs) await sleep(rule.delayMs);
    if (rule?.code !== undefined) throw new CniError(rule.code, rule.msg ?? `injected ${env.command} fault`, rule.details ?? '');
  }
  const ipam = (): FileIpam | undefined =>
    config.subnet === undefined ? undefined : new FileIpam(stateDir(), parseSubnet(config.subnet, config.gateway));

  switch (env.command) {
    case 'ADD': {
      if (config.prevResult) return { result: resultForVersion(checkPrevResult(config.prevResult), config.cniVersion) };
      const store = ipam();
      if (!store) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: subnet is required when the plugin is not chained');
      const a = store.allocate(env.containerId, env.ifname);
      const gateway = intToIp(store.subnet.gateway);
      const octets = a.ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'));
      const result: CniResult = {
        cniVersion: config.cniVersion,
        interfaces: [{ name: env.ifname, mac: `0a:58:${octets.join(':')}`, sandbox: env.netns }],
        ips: [{ address: `${a.ip}/${store.subnet.prefix}`, gateway, interface: 0 }],
        routes: [{ dst: '0.0.0.0/0', gw: gateway }],
        dns: {},
      };
      return { result: resultForVersion(result, config.cniVersion) };
    }
    case 'CHECK': {
      if (!config.prevResult) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: CHECK requires prevResult');
      const prev = checkPrevResult(config.prevResult);
      const store = ipam();
      if (store) {
        const held = store.find(env.containerId, env.ifname);
        if (!held) throw new CniError(CniErrorCode.UnknownContainer, `no address is allocated to ${env.containerId}/${env.ifname}`);
        const expected = `${held.ip}/${store.subnet.prefix}`;
        if (!(prev.ips ?? []).some((ip) => ip.address === expected)) {
          throw new CniError(CniErrorCode.Internal, `prevResult does not contain the allocated address ${expected}`);
        }
      }
      return {};
    }
    case 'DEL':
      ipam()?.release(env.containerId, env.ifname);
      return {};
    case 'GC': {
      const valid = config['cni.dev/valid-attachments'] ?? [];
      if (!Array.isArray(valid) || valid.some((v) => typeof v?.containerID !== 'string' || typeof v?.ifname !== 'string')) {
        throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: cni.dev/valid-attachments must list {containerID, ifname}');
      }
      ipam()?.releaseAllExcept(valid);
      return {};
    }
    case 'STATUS':
      if (config.subnet !== undefined) {
        const dir = stateDir();
        try {
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          accessSync(dir, constants.W_OK);
        } catch (err) {
          throw new CniError(CniErrorCode.PluginNotAvailable, `IPAM state directory ${dir} is not writable`, (err as Error).message);
        }
      }
      return {};
    case 'VERSION':
      return {};
  }
}

function journalEntry(config: CniNetworkConfig, env: CniEnv, outcome: { result?: object; error?: CniError }): SinkEntry {
  // Empty values are left out; the keys keep this order.
  const subject: Record<string, string> = {};
  const put = (key: string, value: string | undefined): void => {
    if (value) subject[key] = value;
  };
  put('containerId', env.containerId);
  put('podSandboxId', env.containerId);
  put('ifname', env.ifname);
  put('netns', env.netns);
  put('network', config.name);
  put('podName', env.args.K8S_POD_NAME);
  put('podNamespace', env.args.K8S_POD_NAMESPACE);
  put('podUid', env.args.K8S_POD_UID);
  return {
    source: 'cni',
    kind: 'rpc',
    name: env.command,
    subject,
    request: { cniVersion: config.cniVersion, type: config.type, chained: config.prevResult !== undefined, args: env.args },
    ...(outcome.error
      ? { error: { code: outcome.error.code, message: outcome.error.message } }
      : outcome.result && Object.keys(outcome.result).length > 0
        ? { response: outcome.result }
        : {}),
  };
}

function readCommand(env: PluginInvocation['env']): CniCommand {
  const command = env.CNI_COMMAND;
  if (!command) throw new CniError(CniErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CniError(CniErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${command}`);
  }
  return command as CniCommand;
}

/** The environment variables each command requires. */
const REQUIRED_ENV: Readonly<Record<CniCommand, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: [],
  VERSION: [],
};

function readEnv(command: CniCommand, raw: PluginInvocation['env']): CniEnv {
  let missing: string[] | undefined;
  for (const name of REQUIRED_ENV[command]) if (!raw[name]) (missing ??= []).push(name);
  if (missing) throw new CniError(CniErrorCode.InvalidEnvironment, `required env variables [${missing.join(',')}] missing`);
  const containerId = raw.CNI_CONTAINERID ?? '';
  if (containerId && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(containerId)) {
    throw new CniError(CniErrorCode.InvalidEnvironment, 'invalid characters in containerID', containerId);
  }
  const ifname = raw.CNI_IFNAME ?? '';
  if (ifname && (ifname.length > 15 || ifname === '.' || ifname === '..' || /[/:\s]/.test(ifname))) {
    throw new CniError(CniErrorCode.InvalidEnvironment, 'invalid interface name', ifname);
  }
  const args = parseCniArgs(raw.CNI_ARGS ?? '');
  return { command, containerId, netns: raw.CNI_NETNS ?? '', ifname, args, path: (raw.CNI_PATH ?? '').split(':').filter(Boolean) };
}

/** The last CNI_ARGS parsed, kept because a pod's ADD and DELs carry the same text (in-process, one after another). */
let lastCniArgs: { readonly text: string; readonly pairs: Readonly<Record<string, string>> } | undefined;

/** CNI_ARGS `K=V;K=V` as a fresh object each call (the caller may keep or journal it). */
function parseCniArgs(text: string): Record<string, string> {
  if (lastCniArgs?.text === text) return { ...lastCniArgs.pairs };
  const args: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CniErrorCode.InvalidEnvironment, `invalid CNI_ARGS pair ${JSON.stringify(pair)}`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  lastCniArgs = { text, pairs: args };
  return { ...args };
}

function parseConfig(stdin: string): CniNetworkConfig {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode network config', (err as Error).message);
  }
  return checkConfig(value);
}

/** The checks of a decoded network config (JSON text or an in-process caller's object). */
function checkConfig(value: unknown): CniNetworkConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode network config', 'expected a JSON object');
  }
  const c = value as Record<string, unknown>;
  for (const field of ['cniVersion', 'name', 'type'] as const) {
    if (typeof c[field] !== 'string' || c[field] === '') {
      throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: ${field} is required`);
    }
  }
  for (const field of ['subnet', 'gateway', 'dataDir', 'journalSocket'] as const) {
    if (c[field] !== undefined && typeof c[field] !== 'string') {
      throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: ${field} must be a string`);
    }
  }
  if (c.journalSocketOptional !== undefined && typeof c.journalSocketOptional !== 'boolean') {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network config: journalSocketOptional must be a boolean');
  }
  if (c.prevResult !== undefined && (typeof c.prevResult !== 'object' || c.prevResult === null || Array.isArray(c.prevResult))) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode prevResult', 'expected a JSON object');
  }
  return c as CniNetworkConfig;
}

function checkPrevResult(prev: CniResult): CniResult {
  if (prev.ips !== undefined && !Array.isArray(prev.ips)) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode prevResult', 'ips must be a list');
  }
  if (prev.interfaces !== undefined && !Array.isArray(prev.interfaces)) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode prevResult', 'interfaces must be a list');
  }
  return prev;
}
