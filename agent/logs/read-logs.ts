/**
 * Reads a container's CRI log file for `kubectl logs` (upstream kuberuntime/logs ReadLogs): from the
 * start of the last tailLines lines, entry by entry through ./log-writer.ts, and when following, on
 * past the end of the file as the container writes, until it is no longer running or the reader is
 * aborted. Waiting is on file-system events for the log's directory, with a re-check every second on
 * the injected Clock in case an event was missed. A rotation (the file renamed and a new one created
 * at the path by ReopenContainerLog) is followed: the renamed file is read to its end first, then the
 * new one from its start. Without follow only the current file is read, as the kubelet does.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../clock/clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { parserFor, type LogParser } from './cri-log-format.js';
import { LogWriter, findTailLineStart, type LogChunk } from './log-writer.js';
import type { LogOptions } from './pod-log-options.js';

/** How long a follower waits for a file event before looking again (upstream logForceCheckPeriod). */
export const LOG_FORCE_CHECK_PERIOD_MS = 1_000;
const READ_SIZE = 64 * 1024;
/** Watch errors tolerated before a follow gives up (upstream retries 5 times). */
const WATCH_ERROR_RETRIES = 5;

export interface ReadLogsDeps {
  readonly clock: Clock;
  /** Asked, before each wait of a follow, whether the container still runs. */
  readonly cri: Pick<CriClient, 'containerStatus'>;
  /** Aborting ends the read quietly (the client went away). */
  readonly signal?: AbortSignal;
  readonly forceCheckPeriodMs?: number;
  readonly log?: (msg: string) => void;
}

/** Receives the output in order; a returned promise holds the reader back until it settles (backpressure). */
export type LogSink = (chunk: LogChunk) => void | Promise<void>;

export async function readLogs(path: string, containerId: string, opts: LogOptions, deps: ReadLogsDeps, sink: LogSink): Promise<void> {
  let resolved: string;
  try {
    resolved = await realpath(path);
  } catch (err) {
    throw new Error(`failed to try resolving symlinks in path ${JSON.stringify(path)}: ${(err as Error).message}`);
  }
  let file: FileHandle;
  try {
    file = await open(resolved, 'r');
  } catch (err) {
    throw new Error(`failed to open log file ${JSON.stringify(resolved)}: ${(err as Error).message}`);
  }
  const reader = new LogFileReader(resolved, containerId, opts, deps, sink, file);
  try {
    await reader.run();
  } finally {
    reader.close();
    await reader.file.close().catch(() => undefined);
  }
}

class LogFileReader {
  private position = 0;
  private pending: Buffer = Buffer.alloc(0);
  private parse: LogParser | undefined;
  private readonly writer: LogWriter;
  private readonly limited: boolean;
  private remainingLines: number;
  private done = false;
  private watcher: FSWatcher | undefined;
  private changed = false;
  private wake: (() => void) | undefined;
  private watchErrors = 0;
  private watchFailure: Error | undefined;

  constructor(
    private readonly path: string,
    private readonly containerId: string,
    private readonly opts: LogOptions,
    private readonly deps: ReadLogsDeps,
    private readonly sink: LogSink,
    public file: FileHandle,
  ) {
    this.writer = new LogWriter(opts);
    this.limited = opts.tail >= 0 && !opts.follow;
    this.remainingLines = opts.tail;
  }

  async run(): Promise<void> {
    const { size } = await this.file.stat();
    this.position = await findTailLineStart(size, this.opts.tail, (position, length) => this.readAt(this.file, position, length));
    let found = true;
    for (;;) {
      if (this.finished()) return;
      const got = await this.readMore(this.file);
      if (this.finished()) return;
      if (got > 0) continue;
      if (!this.opts.follow) {
        // An unterminated last line is still an entry (upstream reads it and stops).
        if (this.pending.length > 0) await this.entry(this.takePending());
        return;
      }
      if (!found) return;
      if (!this.watcher) {
        this.startWatching();
        // Something may have been written before the watch began: look once more.
        continue;
      }
      const woke = await this.waitForChange();
      if (woke === 'aborted') return;
      found = woke === 'found';
      if (found && (await this.recreated())) await this.switchToNewFile();
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private finished(): boolean {
    return this.done || (this.limited && this.remainingLines === 0) || this.deps.signal?.aborted === true;
  }

  /** Reads what follows `position` and hands out its complete lines; returns the bytes read. */
  private async readMore(file: FileHandle): Promise<number> {
    const chunk = await this.readAt(file, this.position, READ_SIZE);
    if (chunk.length === 0) return 0;
    this.position += chunk.length;
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let eol = data.indexOf(0x0a);
    while (eol >= 0) {
      await this.entry(data.subarray(0, eol + 1));
      if (this.finished()) return chunk.length;
      data = data.subarray(eol + 1);
      eol = data.indexOf(0x0a);
    }
    // Copy: the rest must not pin the whole read buffer.
    this.pending = Buffer.from(data);
    return chunk.length;
  }

  private takePending(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  private async entry(line: Buffer): Promise<void> {
    if (!this.parse) {
      const parser = parserFor(line);
      if (typeof parser === 'string') throw new Error(`failed to get parse function: ${parser}`);
      this.parse = parser;
    }
    const msg = this.parse(line);
    if (typeof msg === 'string') {
      this.deps.log?.(`failed when parsing line in log file ${this.path}: ${msg}`);
      return;
    }
    const out = this.writer.write(msg);
    if (out && out.data.length > 0) await this.sink(out);
    if (this.writer.exhausted) this.done = true;
    if (this.limited) this.remainingLines--;
  }

  private async readAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  }

  /** Watches the log's directory: writes to the file, and its rename and re-creation at rotation. */
  private startWatching(): void {
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, () => this.notify());
      this.watcher.on('error', (err: Error) => {
        if (++this.watchErrors > WATCH_ERROR_RETRIES) this.watchFailure = err;
        this.notify();
      });
    } catch (err) {
      throw new Error(`failed to watch file ${JSON.stringify(this.path)}: ${(err as Error).message}`);
    }
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }

  /**
   * Upstream waitLogs: 'stopped' when the container is not running (read to the end, then stop),
   * else 'found' after a file event or the force-check period.
   */
  private async waitForChange(): Promise<'found' | 'stopped' | 'aborted'> {
    const { status } = await this.deps.cri.containerStatus({ containerId: this.containerId });
    if (status?.state !== 'CONTAINER_RUNNING') return 'stopped';
    if (this.watchFailure) throw this.watchFailure;
    if (this.changed) {
      this.changed = false;
      return 'found';
    }
    const signal = this.deps.signal;
    if (signal?.aborted) return 'aborted';
    const timer = new AbortController();
    try {
      return await new Promise<'found' | 'aborted'>((resolve) => {
        const onAbort = (): void => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
        this.wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve('found');
        };
        this.deps.clock
          .sleep(this.deps.forceCheckPeriodMs ?? LOG_FORCE_CHECK_PERIOD_MS, timer.signal)
          .then(() => this.wake?.(), () => undefined);
      });
    } finally {
      this.wake = undefined;
      this.changed = false;
      timer.abort();
    }
  }

  /** Whether the path now names another file than the one open (rotation made a new one). */
  private async recreated(): Promise<boolean> {
    try {
      const [now, current] = await Promise.all([stat(this.path), this.file.stat()]);
      return now.ino !== current.ino || now.dev !== current.dev;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Reads the rotated file to its end, then continues with the new file from its start. */
  private async switchToNewFile(): Promise<void> {
    let next: FileHandle;
    try {
      next = await open(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new Error(`failed to open log file ${JSON.stringify(this.path)}: ${(err as Error).message}`);
    }
    while (!this.finished() && (await this.readMore(this.file)) > 0);
    if (!this.finished() && this.pending.length > 0) await this.entry(this.takePending());
    if (this.finished()) {
      await next.close().catch(() => undefined);
      return;
    }
    await this.file.close().catch(() => undefined);
    this.file = next;
    this.position = 0;
    this.pending = Buffer.alloc(0);
  }
}

