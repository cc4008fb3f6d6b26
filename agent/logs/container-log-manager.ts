/**
 * The container log manager (upstream kuberuntime/logs/container_log_manager.go): every
 * containerLogMonitorInterval on the Clock it looks at each running container's log file; one that has
 * reached containerLogMaxSize is rotated — rotated files other than the newest are gzipped, the oldest
 * removed so that at most containerLogMaxFiles remain including the current one, the current file is
 * renamed to <path>.<YYYYMMDD-hhmmss> and the runtime is told to ReopenContainerLog. A failed reopen
 * renames the file back so the next pass tries again.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { parseQuantity } from '../resources/quantity.js';
import type { CriClient } from '../runtime/cri-client.js';
import { InvalidInputError } from '../util/invalid-input.js';
import { COMPRESS_SUFFIX, TMP_SUFFIX, excessLogs, filterUnusedLogs, rotationTimestamp } from './rotation.js';

/** Upstream defaults (KubeletConfiguration). */
export const DEFAULT_CONTAINER_LOG_MAX_SIZE = '10Mi';
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
export const DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS = 10_000;
export const DEFAULT_CONTAINER_LOG_MAX_WORKERS = 1;

export interface ContainerLogManagerOptions {
  readonly clock: Clock;
  readonly cri: Pick<CriClient, 'listContainers' | 'containerStatus' | 'reopenContainerLog'>;
  /** containerLogMaxSize as a quantity (`10Mi`); negative disables rotation. */
  readonly maxSize?: string;
  /** containerLogMaxFiles, at least 2. */
  readonly maxFiles?: number;
  /** containerLogMonitorInterval in milliseconds (default 10 s). */
  readonly monitorIntervalMs?: number;
  /** containerLogMaxWorkers: containers rotated in parallel (default 1). */
  readonly maxWorkers?: number;
  readonly log?: (msg: string) => void;
}

export class ContainerLogManager {
  readonly maxBytes: bigint;
  readonly maxFiles: number;
  private readonly intervalMs: number;
  private readonly workers: number;
  private timer: TimerHandle | null = null;
  private pass: Promise<void> | null = null;
  private stopped = true;

  /** Throws InvalidInputError naming containerLogMaxSize / containerLogMaxFiles / containerLogMaxWorkers. */
  constructor(private readonly o: ContainerLogManagerOptions) {
    const maxFiles = o.maxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES;
    if (!Number.isInteger(maxFiles) || maxFiles < 2) throw new InvalidInputError('containerLogMaxFiles', `must be an integer >= 2, got ${maxFiles}`);
    const size = o.maxSize ?? DEFAULT_CONTAINER_LOG_MAX_SIZE;
    try {
      this.maxBytes = parseQuantity(size).value();
    } catch (err) {
      throw new InvalidInputError('containerLogMaxSize', `${JSON.stringify(size)} is not a quantity: ${(err as Error).message}`);
    }
    const workers = o.maxWorkers ?? DEFAULT_CONTAINER_LOG_MAX_WORKERS;
    if (!Number.isInteger(workers) || workers < 1) throw new InvalidInputError('containerLogMaxWorkers', `must be an integer >= 1, got ${workers}`);
    this.maxFiles = maxFiles;
    this.workers = workers;
    this.intervalMs = o.monitorIntervalMs ?? DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS;
  }

  /** Whether rotation is on (a negative containerLogMaxSize turns it off, as upstream). */
  get enabled(): boolean {
    return this.maxBytes >= 0n;
  }

  /** A pass now, then one every monitor interval. */
  start(): void {
    if (!this.enabled || !this.stopped) return;
    this.stopped = false;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Resolves once no pass is under way. */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  private tick(): void {
    if (this.stopped) return;
    const pass = this.rotateLogs()
      .catch((err: unknown) => this.o.log?.(`container log manager: ${(err as Error).message}`))
      .finally(() => {
        if (this.pass === pass) this.pass = null;
        if (!this.stopped) this.timer = this.o.clock.setTimeout(() => this.tick(), this.intervalMs);
      });
    this.pass = pass;
  }

  /** One pass over the running containers; a failure with one container does not stop the others. */
  async rotateLogs(): Promise<void> {
    const { containers } = await this.o.cri.listContainers({});
    const queue = containers.filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id);
    const worker = async (): Promise<void> => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          await this.processContainer(id);
        } catch (err) {
          this.o.log?.(`container log manager: container ${id}: ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.workers, Math.max(1, queue.length)) }, worker));
  }

  private async processContainer(id: string): Promise<void> {
    const { status } = await this.o.cri.containerStatus({ containerId: id });
    const path = status?.logPath ?? '';
    if (path === '') return;
    let size = await fileSize(path);
    if (size === null) {
      // A reopen that failed after the rename can lose the current file; ask the runtime for it again.
      await this.o.cri.reopenContainerLog({ containerId: id });
      size = await fileSize(path);
      if (size === null) return;
    }
    if (BigInt(size) < this.maxBytes) return;
    await this.rotateLog(id, path);
  }

  /** Rotates one container's log now (regardless of its size). */
  async rotateLog(containerId: string, path: string): Promise<void> {
    let rotated = await rotatedFiles(path);
    const { inUse, unused } = filterUnusedLogs(rotated);
    for (const file of unused) await rm(file, { force: true });
    rotated = inUse;
    const { remove, keep } = excessLogs(rotated, this.maxFiles);
    for (const file of remove) await rm(file, { force: true });
    for (const file of keep) if (!file.endsWith(COMPRESS_SUFFIX)) await compress(file);
    const target = `${path}.${rotationTimestamp(this.o.clock.now())}`;
    await rename(path, target);
    try {
      await this.o.cri.reopenContainerLog({ containerId });
    } catch (err) {
      // Put the file back so the next pass can try again (the runtime still writes to it).
      await rename(target, path).catch((e: unknown) => this.o.log?.(`container log manager: cannot restore ${path}: ${(e as Error).message}`));
      throw err;
    }
  }

  /**
   * Removes a container's log and all its rotated files (upstream Clean, before RemoveContainer).
   */
  async clean(containerId: string): Promise<void> {
    const { status } = await this.o.cri.containerStatus({ containerId });
    const path = status?.logPath ?? '';
    if (path === '') return;
    const dir = dirname(path);
    const base = basename(path);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) if (name.startsWith(base)) await rm(join(dir, name), { force: true });
  }
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** `<path>.*` in the log's directory. */
async function rotatedFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).map((n) => join(dir, n));
}

/** gzip `file` to `file.gz` through a temporary file, then remove the original. */
async function compress(file: string): Promise<void> {
  const tmp = `${file}${TMP_SUFFIX}`;
  try {
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, `${file}${COMPRESS_SUFFIX}`);
    await rm(file, { force: true });
  } finally {
    await rm(tmp, { force: true });
  }
}
