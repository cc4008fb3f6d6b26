/**
 * A private containerd as a child process: its own root, state, socket, config, CNI directories, bridge and
 * subnet, all under one run directory in the temp dir. stop() removes every pod through the CRI (so CNI DEL
 * runs), stops the daemon, then force-cleans whatever is left (see force-cleanup.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { realClock, type Clock } from '../../agent/clock/index.js';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { runtimeCgroupDirs } from '../host/cgroups.js';
import { currentNatChains } from '../host/iptables.js';
import { RUN_DIR_PREFIX, writeOwnerRecord } from '../host/run-record.js';
import { startDaemon } from '../util/daemon.js';
import { waitFor } from '../util/wait.js';
import { hasCapability, ownCapabilities } from './capabilities.js';
import { cniConflist, containerdConfigToml, registryHostsFiles, type ContainerdPaths } from './config.js';
import { forceCleanupContainerdRun, type ContainerdRunDetails } from './force-cleanup.js';
import { chooseNetwork } from './network-choice.js';
import { removeAllPods } from './remove-pods.js';

export const CONTAINERD_BINARY = '/usr/bin/containerd';
export const SYSTEM_CNI_BIN_DIR = '/usr/lib/cni';
export const CONTAINERD_RUN_KIND = 'containerd';

export interface CniPluginBinary {
  /** The plugin type as conflists name it (the file name the runtime execs). */
  readonly type: string;
  /** Absolute path of the executable; linked into the run's CNI bin dir. */
  readonly path: string;
}

export interface StartContainerdOptions {
  /** CRI sandbox_image: the pause image reference (from the local registry). */
  readonly sandboxImage: string;
  /** 127.0.0.1:PORT of the local registry: plain-HTTP host config and mirror target. */
  readonly registryHost: string;
  /** Extra CNI plugin executables (e.g. kubelet-harness-cni), linked beside the Debian plugins. */
  readonly extraCniPlugins?: readonly CniPluginBinary[];
  /** Plugin configurations appended to the conflist chain after bridge and portmap. */
  readonly extraCniChain?: readonly Record<string, unknown>[];
  /** Parent of the run directory (default: the OS temp dir). */
  readonly parentDir?: string;
  readonly containerdBinary?: string;
  readonly readyTimeoutMs?: number;
  readonly clock?: Clock;
}

export interface ContainerdTeardownReport {
  readonly podsRemoved: number;
  readonly containersRemoved: number;
  /** Whatever could not be cleaned (empty when nothing is left behind). */
  readonly problems: readonly string[];
  readonly durationMs: number;
}

export interface ContainerdInstance {
  /** unix:///.../containerd.sock — serves both CRI services. */
  readonly runtimeEndpoint: string;
  readonly socket: string;
  readonly pid: number;
  readonly runDir: string;
  readonly logFile: string;
  /** The directory containerd execs CNI plugins from (Debian plugins + extras). */
  readonly cniBinDir: string;
  readonly cniConfDir: string;
  readonly bridge: string;
  readonly subnet: string;
  readonly restrictOomScoreAdj: boolean;
  /**
   * Adds a plugin executable to the CNI bin dir and/or rewrites the conflist with another extra chain.
   * containerd watches its conf dir, so new sandboxes use the new chain.
   */
  configureCni(change: { plugins?: readonly CniPluginBinary[]; chain?: readonly Record<string, unknown>[] }): Promise<void>;
  /** Removes every pod, stops containerd, and cleans up. Idempotent. */
  stop(): Promise<ContainerdTeardownReport>;
  /** Synchronous last resort for exit handlers: kills and removes everything without the CRI. */
  stopSync(): readonly string[];
}

/**
 * overlayfs cannot use an overlayfs (a container's root filesystem) as its upper/lower dirs: containerd's
 * overlayfs snapshotter then fails every mount, and the copying "native" snapshotter is the one that works.
 */
export function snapshotterFor(dir: string): 'overlayfs' | 'native' {
  try {
    const type = execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
    return type === 'overlayfs' ? 'native' : 'overlayfs';
  } catch {
    return 'overlayfs';
  }
}

export async function startContainerd(options: StartContainerdOptions): Promise<ContainerdInstance> {
  const clock = options.clock ?? realClock;
  const binary = options.containerdBinary ?? CONTAINERD_BINARY;
  if (!existsSync(binary)) throw new Error(`${binary} not found: install containerd (apt-get install containerd runc containernetworking-plugins)`);
  if (!existsSync(join(SYSTEM_CNI_BIN_DIR, 'bridge'))) throw new Error(`${SYSTEM_CNI_BIN_DIR}/bridge not found: install containernetworking-plugins`);
  if (process.getuid?.() !== 0) throw new Error('starting containerd needs root');

  const runDir = await mkdtemp(join(options.parentDir ?? tmpdir(), `${RUN_DIR_PREFIX}containerd-`));
  await chmod(runDir, 0o700);
  const paths: ContainerdPaths = {
    root: join(runDir, 'root'),
    state: join(runDir, 'state'),
    socket: join(runDir, 'containerd.sock'),
    optDir: join(runDir, 'opt'),
    cniBinDir: join(runDir, 'cni-bin'),
    cniConfDir: join(runDir, 'cni-conf'),
    certsDir: join(runDir, 'certs.d'),
  };
  const network = chooseNetwork();
  const networkName = `kubelet-harness-${basename(runDir).slice(-6).toLowerCase()}`;
  const cniConfFile = join(paths.cniConfDir, '10-kubelet-harness.conflist');
  const configFile = join(runDir, 'config.toml');
  const details: ContainerdRunDetails = {
    runDir,
    configFile,
    socket: paths.socket,
    stateDir: paths.state,
    bridge: network.bridge,
    cniBinDir: paths.cniBinDir,
    cniConfFile,
    cgroupBaseline: runtimeCgroupDirs(),
    natChainBaseline: currentNatChains(),
  };
  // Recorded before anything is created outside runDir, so a killed run can be swept by the next one.
  writeOwnerRecord(runDir, CONTAINERD_RUN_KIND, details);

  let extraChain = options.extraCniChain ?? [];
  const linkPlugins = (plugins: readonly CniPluginBinary[]): void => {
    for (const plugin of plugins) {
      if (!/^[A-Za-z0-9_.-]+$/.test(plugin.type)) throw new Error(`CNI plugin type "${plugin.type}" is not a valid file name`);
      if (!existsSync(plugin.path)) throw new Error(`CNI plugin ${plugin.type}: ${plugin.path} does not exist`);
      const link = join(paths.cniBinDir, plugin.type);
      if (existsSync(link)) throw new Error(`CNI plugin ${plugin.type} is already in ${paths.cniBinDir}`);
      symlinkSync(plugin.path, link);
    }
  };
  const writeConflist = async (): Promise<void> => {
    const text = cniConflist({
      name: networkName,
      bridge: network.bridge,
      subnet: network.subnet,
      ipamDataDir: join(runDir, 'cni-ipam'),
      extraPlugins: extraChain,
    });
    // Write then rename: containerd's watcher must never read half a file.
    await writeFile(`${cniConfFile}.tmp`, text, { mode: 0o600 });
    await rename(`${cniConfFile}.tmp`, cniConfFile);
  };

  const restrictOomScoreAdj = !hasCapability(ownCapabilities(), 'CAP_SYS_RESOURCE');
  let daemon;
  try {
    for (const dir of [paths.root, paths.state, paths.optDir, paths.cniBinDir, paths.cniConfDir, paths.certsDir]) await mkdir(dir, { recursive: true, mode: 0o700 });
    // One bin_dir (containerd 1.6 takes a single directory): the Debian plugins and the project's, side by side.
    for (const name of readdirSync(SYSTEM_CNI_BIN_DIR)) symlinkSync(join(SYSTEM_CNI_BIN_DIR, name), join(paths.cniBinDir, name));
    linkPlugins(options.extraCniPlugins ?? []);
    await writeConflist();
    for (const [host, content] of registryHostsFiles(options.registryHost)) {
      await mkdir(join(paths.certsDir, host), { recursive: true });
      await writeFile(join(paths.certsDir, host, 'hosts.toml'), content);
    }
    const snapshotter = snapshotterFor(runDir);
    await writeFile(configFile, containerdConfigToml({ paths, sandboxImage: options.sandboxImage, restrictOomScoreAdj, snapshotter }), { mode: 0o600 });
    daemon = startDaemon('containerd', binary, ['--config', configFile], join(runDir, 'containerd.log'), clock);
  } catch (error) {
    forceCleanupContainerdRun(details);
    throw error;
  }

  const runtimeEndpoint = `unix://${paths.socket}`;
  let client: CriClient | undefined;
  try {
    await waitFor('containerd socket', () => (existsSync(paths.socket) ? true : undefined), {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      clock,
      abortIf: () => daemon.exitReason(),
    });
    await chmod(paths.socket, 0o600);
    client = createCriClient({ runtimeEndpoint, timeoutMs: 5_000, clock });
    const cri = client;
    await waitFor(
      'containerd CRI Status (RuntimeReady and NetworkReady)',
      async () => {
        const status = await cri.status({ verbose: false });
        const conditions = status.status?.conditions ?? [];
        const ready = (type: string) => conditions.some((c) => c.type === type && c.status);
        if (ready('RuntimeReady') && ready('NetworkReady')) return true;
        throw new Error(`conditions: ${conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}: ${c.message})` : ''}`).join(', ')}`);
      },
      { timeoutMs: options.readyTimeoutMs ?? 30_000, intervalMs: 100, clock, abortIf: () => daemon.exitReason() },
    );
  } catch (error) {
    client?.close();
    const tail = daemon.tail();
    await daemon.stop();
    forceCleanupContainerdRun(details);
    throw new Error(`containerd did not become ready: ${(error as Error).message}\n--- containerd log (last lines) ---\n${tail}`);
  }
  client.close();

  let stopped: Promise<ContainerdTeardownReport> | undefined;
  let stoppedSync = false;
  const stop = async (): Promise<ContainerdTeardownReport> => {
    const started = clock.monotonic();
    let podsRemoved = 0;
    let containersRemoved = 0;
    const problems: string[] = [];
    if (daemon.exitReason() === undefined) {
      const cri = createCriClient({ runtimeEndpoint, timeoutMs: 15_000, clock});
      try {
        const removed = await removeAllPods(cri);
        podsRemoved = removed.pods;
        containersRemoved = removed.containers;
        problems.push(...removed.problems);
      } catch (error) {
        // An unresponsive runtime: the forced cleanup below still removes everything.
        problems.push(`CRI teardown: ${(error as Error).message}`);
      } finally {
        cri.close();
      }
    } else {
      problems.push(`containerd had already stopped: ${daemon.exitReason()}`);
    }
    await daemon.stop(10_000);
    // Whatever the CRI teardown left (it should be nothing) is removed here; report it so leaks are visible.
    problems.push(...forceCleanupContainerdRun(details));
    return { podsRemoved, containersRemoved, problems, durationMs: clock.monotonic() - started };
  };

  return {
    runtimeEndpoint,
    socket: paths.socket,
    pid: daemon.pid,
    runDir,
    logFile: daemon.logFile,
    cniBinDir: paths.cniBinDir,
    cniConfDir: paths.cniConfDir,
    bridge: network.bridge,
    subnet: network.subnet,
    restrictOomScoreAdj,
    async configureCni(change) {
      linkPlugins(change.plugins ?? []);
      if (change.chain !== undefined) {
        extraChain = change.chain;
        await writeConflist();
      }
    },
    stop: () => (stopped ??= stop()),
    stopSync() {
      if (stoppedSync) return [];
      stoppedSync = true;
      return forceCleanupContainerdRun(details);
    },
  };
}
