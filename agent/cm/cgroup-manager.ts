import { existsSync, mkdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { readFile, readdir, realpath, rmdir, stat, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import { v1Writes, v2Controllers, v2Writes, type CgroupFileWrite } from './cgroup-files.js';
import { parseCgroupProcs } from './cgroup-processes.js';
import type { ResourceConfig } from './resource-config.js';

/**
 * The cgroupfs driver's cgroup manager (upstream cm/cgroup_manager_linux.go over runc's fs and fs2
 * managers): creates, updates and removes a named cgroup in every v1 hierarchy under a root, or in
 * the unified v2 tree. Each operation is timed into kubelet_cgroup_manager_duration_seconds.
 *
 * A root that is not a cgroup filesystem (a plain directory tree shaped like one, as tests and the
 * fake runtime use) is a stand-in: the manager removes the interface files it wrote before rmdir, as
 * the kernel's rmdir would; a cgroup.procs listing a process makes a cgroup busy on both.
 *
 * Checks, creation and value writes use synchronous calls, as upstream's plain syscalls: on cgroupfs
 * each takes microseconds, while a thread-pool round trip under load took about a millisecond, and
 * a pod's cgroup (with the QoS tiers' update) sits on its start path before the sandbox.
 */

/** A cgroup as name components, e.g. ['kubepods', 'burstable', 'pod<uid>'] (upstream CgroupName). */
export type CgroupName = readonly string[];

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;
/** v1 hierarchies whose directory must exist for a cgroup to count as existing (upstream Exists). */
const REQUIRED_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'];
/** The hybrid layout's v2 mount, which holds no pod resources. */
const HYBRID_UNIFIED = 'unified';

export class CgroupBusyError extends Error {
  override readonly name = 'CgroupBusyError';
  constructor(readonly paths: readonly string[]) {
    super(`cgroup still in use (processes or child cgroups): ${paths.join(', ')}`);
  }
}

interface Hierarchy {
  /** The name under the root ('cpu', 'memory', …); '' for the v2 tree. */
  readonly name: string;
  readonly dir: string;
  readonly standIn: boolean;
}

export interface CgroupManagerOptions {
  /** Where the cgroup filesystems are mounted (default /sys/fs/cgroup). */
  readonly root: string;
  readonly clock: Clock;
  readonly metrics?: KubeletMetrics;
}

export class CgroupManager {
  private constructor(
    private readonly options: CgroupManagerOptions,
    readonly version: 1 | 2,
    private readonly hierarchies: readonly Hierarchy[],
  ) {}

  /** Reads the layout under the root: v2 when it holds cgroup.controllers, else one v1 hierarchy per directory. */
  static async open(options: CgroupManagerOptions): Promise<CgroupManager> {
    const root = options.root;
    const rootStat = await stat(root).catch(() => undefined);
    if (!rootStat?.isDirectory()) throw new Error(`cgroup root ${root} is not a directory`);
    if (existsSync(join(root, 'cgroup.controllers'))) {
      const fs = await statfs(root);
      return new CgroupManager(options, 2, [{ name: '', dir: root, standIn: fs.type !== CGROUP2_SUPER_MAGIC }]);
    }
    const seen = new Set<string>();
    const hierarchies: Hierarchy[] = [];
    for (const name of (await readdir(root)).sort()) {
      if (name === HYBRID_UNIFIED) continue;
      const dir = join(root, name);
      const real = await realpath(dir).catch(() => undefined);
      if (real === undefined || seen.has(real) || !(await stat(real)).isDirectory()) continue;
      seen.add(real);
      const fs = await statfs(real);
      hierarchies.push({ name, dir, standIn: fs.type !== CGROUP_SUPER_MAGIC });
    }
    if (hierarchies.length === 0) throw new Error(`no cgroup v1 hierarchies under ${root}`);
    return new CgroupManager(options, 1, hierarchies);
  }

  get root(): string {
    return this.options.root;
  }

  /** The directory of `name` in one hierarchy ('cpu', 'memory', … on v1; ignored on v2). */
  path(name: CgroupName, controller = 'memory'): string {
    return this.version === 2 ? join(this.options.root, ...name) : join(this.options.root, controller, ...name);
  }

  /** Every hierarchy directory (v1) or the v2 tree holding `name`. */
  paths(name: CgroupName): string[] {
    return this.hierarchies.map((h) => join(h.dir, ...name));
  }

  async exists(name: CgroupName): Promise<boolean> {
    const required = this.version === 2 ? this.hierarchies : this.hierarchies.filter((h) => REQUIRED_V1.includes(h.name));
    return required.every((h) => existsSync(join(h.dir, ...name)));
  }

  async create(name: CgroupName, config: ResourceConfig): Promise<void> {
    await this.timed('create', async () => {
      if (this.version === 2) await this.createV2(name, config);
      else for (const h of this.hierarchies) await this.createV1(h, name);
      await this.set(name, config);
    });
  }

  async update(name: CgroupName, config: ResourceConfig): Promise<void> {
    await this.timed('update', () => this.set(name, config));
  }

  /**
   * Removes `name` and its child cgroups in every hierarchy. When a process is still in any of them
   * nothing is removed (CgroupBusyError): a cgroup gone from one hierarchy but not another reads as
   * deleted to the runtime.
   */
  async destroy(name: CgroupName): Promise<void> {
    await this.timed('destroy', async () => {
      const occupied: string[] = [];
      for (const h of this.hierarchies) await collectOccupied(join(h.dir, ...name), occupied);
      if (occupied.length > 0) throw new CgroupBusyError(occupied);
      const busy: string[] = [];
      for (const h of this.hierarchies) await removeTree(join(h.dir, ...name), h.standIn, busy);
      if (busy.length > 0) throw new CgroupBusyError(busy);
    });
  }

  /** Whether any hierarchy is a plain directory tree (its cgroup.procs lists no real processes). */
  get standIn(): boolean {
    return this.hierarchies.some((h) => h.standIn);
  }

  /**
   * The PIDs in `name` and every cgroup below it, in any hierarchy, each once (upstream Pids: a
   * container cgroup the runtime has not removed yet still holds processes charged to the pod).
   */
  async pids(name: CgroupName): Promise<number[]> {
    const found = new Set<number>();
    for (const h of this.hierarchies) await collectPids(join(h.dir, ...name), found);
    return [...found].sort((a, b) => a - b);
  }

  /** Names of the child cgroups of `parent`, in any hierarchy. */
  async children(parent: CgroupName): Promise<string[]> {
    const names = new Set<string>();
    for (const h of this.hierarchies) {
      const dir = join(h.dir, ...parent);
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        if (entry.isDirectory()) names.add(entry.name);
      }
    }
    return [...names].sort();
  }

  private async timed(operation: 'create' | 'update' | 'destroy', run: () => Promise<void>): Promise<void> {
    const clock = this.options.clock;
    const started = clock.monotonic();
    try {
      await run();
    } finally {
      this.options.metrics?.cgroupManagerDuration.observe({ operation_type: operation }, (clock.monotonic() - started) / 1000);
    }
  }

  private async createV1(h: Hierarchy, name: CgroupName): Promise<void> {
    mkdirSync(join(h.dir, ...name), { recursive: true });
    // A new cpuset cgroup starts with no CPUs or memory nodes, and no task could join it: inherit them.
    if (h.name !== 'cpuset') return;
    for (let depth = 1; depth <= name.length; depth++) {
      const dir = join(h.dir, ...name.slice(0, depth));
      const parent = join(h.dir, ...name.slice(0, depth - 1));
      for (const file of ['cpuset.cpus', 'cpuset.mems']) {
        const own = readOrEmpty(join(dir, file)).trim();
        if (own !== '') continue;
        const inherited = readOrEmpty(join(parent, file)).trim();
        if (inherited !== '') writeFileSync(join(dir, file), inherited);
      }
    }
  }

  private async createV2(name: CgroupName, config: ResourceConfig): Promise<void> {
    const root = this.options.root;
    const available = readOrEmpty(join(root, 'cgroup.controllers')).split(/\s+/).filter(Boolean);
    const wanted = v2Controllers(config).filter((c) => available.length === 0 || available.includes(c));
    for (let depth = 1; depth <= name.length; depth++) {
      const parent = join(root, ...name.slice(0, depth - 1));
      // Controllers reach a cgroup only when every ancestor delegates them.
      if (wanted.length > 0) writeFileSync(join(parent, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
      mkdirSync(join(root, ...name.slice(0, depth)), { recursive: true });
    }
  }

  private async set(name: CgroupName, config: ResourceConfig): Promise<void> {
    if (this.version === 2) {
      for (const w of v2Writes(config)) await this.write(join(this.options.root, ...name), w);
      return;
    }
    const writes = v1Writes(config);
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      const dir = this.v1Dir(w.controller, name);
      try {
        await this.write(dir, w);
      } catch (e) {
        // A shorter period can be refused while the old quota is in force: quota first, then period.
        const next = writes[i + 1];
        if (w.file !== 'cpu.cfs_period_us' || next?.file !== 'cpu.cfs_quota_us' || (e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        await this.write(dir, next);
        await this.write(dir, w);
        i++;
      }
    }
  }

  private v1Dir(controller: string, name: CgroupName): string {
    const h = this.hierarchies.find((x) => x.name === controller);
    if (!h) throw new Error(`cgroup v1 hierarchy "${controller}" is not mounted under ${this.options.root}`);
    return join(h.dir, ...name);
  }

  private async write(dir: string, w: CgroupFileWrite): Promise<void> {
    try {
      writeFileSync(join(dir, w.file), w.value);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw Object.assign(new Error(`writing ${w.value} to ${join(dir, w.file)}: ${err.code ?? err.message}`), { code: err.code });
    }
  }
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The entries of `dir`, or undefined when it is already gone. */
async function readdirIfExists(dir: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The directories at or below `dir` whose cgroup.procs lists a process. */
async function collectOccupied(dir: string, occupied: string[]): Promise<void> {
  const entries = await readdirIfExists(dir);
  if (entries === undefined) return;
  for (const entry of entries) if (entry.isDirectory()) await collectOccupied(join(dir, entry.name), occupied);
  const procs = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '')).trim();
  if (procs !== '') occupied.push(dir);
}

async function collectPids(dir: string, found: Set<number>): Promise<void> {
  const entries = await readdirIfExists(dir);
  if (entries === undefined) return;
  for (const pid of parseCgroupProcs(await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))) found.add(pid);
  for (const entry of entries) if (entry.isDirectory()) await collectPids(join(dir, entry.name), found);
}

/** Deepest first; a directory already gone is fine, one the kernel refuses (EBUSY) is recorded in `busy`. */
async function removeTree(dir: string, standIn: boolean, busy: string[]): Promise<void> {
  const entries = await readdirIfExists(dir);
  if (entries === undefined) return;
  const before = busy.length;
  for (const entry of entries) if (entry.isDirectory()) await removeTree(join(dir, entry.name), standIn, busy);
  if (busy.length > before) {
    busy.push(dir);
    return;
  }
  if (standIn) {
    for (const entry of entries) if (!entry.isDirectory()) await unlink(join(dir, entry.name)).catch(() => undefined);
  }
  try {
    await rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') busy.push(dir);
    else throw e;
  }
}
