/**
 * Synchronous, best-effort removal of everything one containerd run created, without asking containerd: used
 * after the graceful CRI teardown (to catch what it missed), from exit/signal handlers, and to sweep the
 * leftovers of a run that was killed. Everything it touches is identified through the run's own directory, so
 * concurrent runs are never affected: processes by their --config / -address arguments, sandboxes and their
 * network namespaces from the bundles in the run's state dir, the bridge by its per-run name.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { removeAddedCgroupDirs } from '../host/cgroups.js';
import { removeIdlePortmapChains } from '../host/iptables.js';
import { isBelow, unmountAllBelow } from '../host/mounts.js';
import { killQuietly, listProcesses, withDescendants } from '../host/proc.js';
import { liveRunDirs } from '../host/run-record.js';

export interface ContainerdRunDetails {
  readonly runDir: string;
  readonly configFile: string;
  readonly socket: string;
  readonly stateDir: string;
  readonly bridge: string;
  readonly cniBinDir: string;
  readonly cniConfFile: string;
  /** Runtime cgroup directories that existed before the run (see host/cgroups.ts). */
  readonly cgroupBaseline: readonly string[];
  /** nat chains that existed before the run (portmap's shared chains are removed only if the run added them). */
  readonly natChainBaseline: readonly string[];
}

export interface SandboxBundle {
  readonly id: string;
  readonly netnsPath: string | undefined;
}

/** Ids of every task (sandbox or container) with a bundle in the run's state dir. */
export function taskBundleIds(stateDir: string): string[] {
  try {
    return readdirSync(join(stateDir, 'io.containerd.runtime.v2.task', 'k8s.io'));
  } catch {
    return [];
  }
}

/**
 * Files outside the run dir that a task keeps while it runs and that nobody removes when its shim is killed:
 * runc's state directory and the shim's socket (named by a hash of containerd's address, namespace and task id).
 */
export function taskRuntimeFiles(socket: string, id: string): string[] {
  const shimSocket = createHash('sha256').update(join(socket, 'k8s.io', id)).digest('hex');
  return [join('/run/containerd/runc/k8s.io', id), join('/run/containerd/s', shimSocket)];
}

/** Pod sandboxes with a task bundle in the run's state dir, with the network namespace their spec names. */
export function sandboxBundles(stateDir: string): SandboxBundle[] {
  const tasks = join(stateDir, 'io.containerd.runtime.v2.task', 'k8s.io');
  let ids: string[] = [];
  try {
    ids = readdirSync(tasks);
  } catch {
    return [];
  }
  const bundles: SandboxBundle[] = [];
  for (const id of ids) {
    try {
      const spec = JSON.parse(readFileSync(join(tasks, id, 'config.json'), 'utf8')) as {
        annotations?: Record<string, string>;
        linux?: { namespaces?: { type?: string; path?: string }[] };
      };
      if (spec.annotations?.['io.kubernetes.cri.container-type'] !== 'sandbox') continue;
      const netns = spec.linux?.namespaces?.find((ns) => ns.type === 'network')?.path;
      bundles.push({ id, netnsPath: netns && netns !== '' ? netns : undefined });
    } catch {
      // bundle without a readable spec: nothing to learn from it
    }
  }
  return bundles;
}

/** Where libcni (inside containerd) caches ADD results, one file per network, sandbox and interface. */
export const CNI_RESULTS_DIR = '/var/lib/cni/results';

/** Ids of every sandbox this containerd created, from its log (sandboxes already removed included). */
export function sandboxIdsFromLog(logText: string): string[] {
  return [...new Set([...logText.matchAll(/returns sandbox id \\?"([0-9a-f]{64})\\?"/g)].map((match) => match[1] as string))];
}

/**
 * Removes libcni's cached results for the given sandboxes. containerd's own teardown deletes them, but a sandbox
 * whose network was torn down by the fallback (or never torn down) leaves "cni-loopback-<id>-lo" and
 * "<network>-<id>-eth0" behind.
 */
export function removeCachedCniResults(sandboxIds: readonly string[], dir: string = CNI_RESULTS_DIR): string[] {
  if (sandboxIds.length === 0) return [];
  const ids = new Set(sandboxIds);
  const problems: string[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const name of names) {
    const id = /-([0-9a-f]{64})-[^-]+$/.exec(name)?.[1];
    if (id === undefined || !ids.has(id)) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch (error) {
      problems.push(`CNI result cache ${name}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/**
 * Network namespaces containerd's CRI recorded for this run's sandboxes. The sandbox metadata (with its netns
 * path) is stored as JSON inside the bolt database, so the paths can be read from its bytes: this also finds
 * the netns of sandboxes whose task bundle is already gone (an exited pause that was never stopped).
 */
export function netnsPathsFromMetadata(rootDir: string): string[] {
  let bytes: string;
  try {
    bytes = readFileSync(join(rootDir, 'io.containerd.metadata.v1.bolt', 'meta.db'), 'latin1');
  } catch {
    return [];
  }
  const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
  return [...new Set([...bytes.matchAll(new RegExp(`/(?:var/)?run/netns/cni-${uuid}`, 'g'))].map((match) => match[0]))];
}

/** Pids of this run's containerd, its shims, and everything below them. */
export function runProcesses(details: Pick<ContainerdRunDetails, 'configFile' | 'socket'>): number[] {
  const processes = listProcesses();
  const roots = processes
    .filter((p) => {
      const daemon = p.argv.some((arg, i) => arg === details.configFile && /^(--config|-c)$/.test(p.argv[i - 1] ?? ''));
      const shim = p.argv.some((arg, i) => arg === details.socket && p.argv[i - 1] === '-address');
      return daemon || shim;
    })
    .map((p) => p.pid);
  return roots.length === 0 ? [] : withDescendants(roots, processes);
}

/** Blocks the thread (exit handlers cannot await); only used for short waits while processes die. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs CNI DEL for one sandbox through the run's conflist, last plugin first, as the runtime would. */
export function cniDelete(details: Pick<ContainerdRunDetails, 'cniBinDir' | 'cniConfFile'>, sandbox: SandboxBundle): string[] {
  if (!existsSync(details.cniConfFile) || sandbox.netnsPath === undefined) return [];
  const conflist = JSON.parse(readFileSync(details.cniConfFile, 'utf8')) as { cniVersion: string; name: string; plugins: Record<string, unknown>[] };
  const problems: string[] = [];
  for (const plugin of [...conflist.plugins].reverse()) {
    const type = String(plugin['type']);
    const config = JSON.stringify({ ...plugin, cniVersion: conflist.cniVersion, name: conflist.name });
    const result = spawnSync(join(details.cniBinDir, type), [], {
      input: config,
      encoding: 'utf8',
      timeout: 10_000,
      env: {
        ...process.env,
        CNI_COMMAND: 'DEL',
        CNI_CONTAINERID: sandbox.id,
        CNI_NETNS: existsSync(sandbox.netnsPath) ? sandbox.netnsPath : '',
        CNI_IFNAME: 'eth0',
        CNI_PATH: details.cniBinDir,
      },
    });
    if (result.status !== 0) problems.push(`CNI DEL ${type} for sandbox ${sandbox.id}: ${(result.stdout || result.stderr || String(result.error ?? '')).trim().slice(0, 200)}`);
  }
  return problems;
}

function removeNetns(path: string): string[] {
  if (!existsSync(path)) return [];
  spawnSync('umount', ['-l', path]);
  try {
    rmSync(path, { force: true });
    return [];
  } catch (error) {
    return [`netns ${path}: ${(error as Error).message}`];
  }
}

function linkExists(name: string): boolean {
  return spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
}

/**
 * Directories containerd, its shims, runc and libcni create on first use and never remove: shim sockets, runc's
 * state root, the CNI result cache. Each is recreated on demand (MkdirAll) by whoever needs it next, so removing
 * one that is empty is safe even while another runtime is running; a non-empty one is left alone. Deepest first.
 */
export const ON_DEMAND_RUNTIME_DIRS = ['/run/containerd/s', '/run/containerd/runc/k8s.io', '/run/containerd/runc', '/run/containerd', '/var/lib/cni/results', '/var/lib/cni', '/run/netns'];

export function removeEmptyOnDemandDirs(dirs: readonly string[] = ON_DEMAND_RUNTIME_DIRS): void {
  for (const dir of dirs) {
    try {
      rmdirSync(dir);
    } catch {
      // absent, or in use (not empty)
    }
  }
}

/** Removes what is left of a containerd run. Returns the problems it could not fix (empty when clean). */
export function forceCleanupContainerdRun(details: ContainerdRunDetails): string[] {
  const problems: string[] = [];

  // 1. The daemon, its shims, and the pod processes below them.
  let pids = runProcesses(details);
  for (let attempt = 0; pids.length > 0 && attempt < 50; attempt++) {
    for (const pid of pids) killQuietly(pid, 'SIGKILL');
    sleepSync(40);
    pids = runProcesses(details);
  }
  if (pids.length > 0) problems.push(`processes still running: ${pids.join(', ')}`);

  // 2. Pod networks the runtime did not tear down: CNI DEL (veth, IPAM, portmap rules), then the netns mount,
  //    then libcni's result cache for every sandbox the run ever had.
  const bundles = sandboxBundles(details.stateDir);
  for (const sandbox of bundles) problems.push(...cniDelete(details, sandbox));
  const netnsPaths = new Set([...bundles.map((sandbox) => sandbox.netnsPath), ...netnsPathsFromMetadata(join(details.runDir, 'root'))]);
  for (const path of netnsPaths) if (path !== undefined && !isBelow(path, details.runDir)) problems.push(...removeNetns(path));
  let logText = '';
  try {
    logText = readFileSync(join(details.runDir, 'containerd.log'), 'utf8');
  } catch {
    // no log: only the bundles name sandboxes
  }
  problems.push(...removeCachedCniResults([...bundles.map((bundle) => bundle.id), ...sandboxIdsFromLog(logText)]));
  for (const id of taskBundleIds(details.stateDir)) {
    for (const path of taskRuntimeFiles(details.socket, id)) rmSync(path, { recursive: true, force: true });
  }

  // 3. Every mount below the run directory (rootfs overlays, shm, netns if any were there).
  problems.push(...unmountAllBelow(details.runDir));

  // 4. The run's bridge.
  if (linkExists(details.bridge)) {
    const result = spawnSync('ip', ['link', 'delete', details.bridge], { encoding: 'utf8' });
    if (result.status !== 0) problems.push(`bridge ${details.bridge}: ${result.stderr.trim()}`);
  }

  // 5. Pod cgroup parents created during the run.
  problems.push(...removeAddedCgroupDirs(new Set(details.cgroupBaseline)));

  // 6. portmap's shared chains, if this run created them and no port mapping is left on the host.
  problems.push(...removeIdlePortmapChains(details.natChainBaseline ?? []));

  // 7. Shim socket, runc state and CNI cache directories, if empty and no other runtime may be about to use them
  //    (between a MkdirAll and the file it makes room for).
  const parents = [...new Set([tmpdir(), dirname(details.runDir)])];
  const otherRuns = parents.flatMap((parent) => liveRunDirs('containerd', parent)).filter(({ dir }) => dir !== details.runDir);
  if (otherRuns.length === 0 && !existsSync('/run/containerd/containerd.sock')) removeEmptyOnDemandDirs();

  // 8. The run directory itself.
  try {
    rmSync(details.runDir, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    problems.push(`run directory ${details.runDir}: ${(error as Error).message}`);
  }
  return problems;
}
