import * as fs from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from '../../agent/clock/clock.js';
import { nowNs, rfc3339Nano } from './time.js';

export type LogStream = 'stdout' | 'stderr';

/** Longest line containerd writes before splitting it into partial ('P') entries (max_container_log_line_size). */
export const DEFAULT_MAX_LOG_LINE = 16 * 1024;

/**
 * Writes a container's output in the CRI log format, one entry per line:
 *   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <message>
 * Lines are buffered per stream until a newline; a line longer than the maximum is split into P entries
 * followed by an F entry; what is left when the process exits is written as a final F entry.
 *
 * The file stays open on a descriptor, as containerd's logger keeps it: after the kubelet renames the
 * file during rotation, output keeps going to the renamed file until ReopenContainerLog opens a new one.
 */
export class CriLogWriter {
  private fd: number | null = null;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };
  private failures = 0;
  /** The background create of prepare(): in flight, or how it ended. */
  private early: { state: 'pending' } | { state: 'open'; fd: number; created: boolean } | { state: 'failed' } | null = null;
  /** Set once the writer no longer wants what a pending background create delivers. */
  private abandoned: 'close' | 'remove' | null = null;
  private settled: Promise<void> = Promise.resolve();
  /** Closed or discarded: a late prepare() does nothing. */
  private retired = false;

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly maxLine = DEFAULT_MAX_LOG_LINE,
  ) {}

  /**
   * Creates the file ahead of open(), in libuv's thread pool: on a busy disk creating a file (a
   * journaled directory update) takes from tens of microseconds to milliseconds, and the runtime
   * calls this at CreateContainer so that StartContainer, which the kubelet sends next, normally finds
   * the file open. Failures are not reported here: open() tries again and reports them then, when
   * containerd does. The promise (which never rejects) settles when the background work is done.
   */
  prepare(): Promise<void> {
    if (this.early || this.fd !== null || this.retired) return this.settled;
    this.early = { state: 'pending' };
    owners.set(this.path, this);
    this.settled = new Promise((resolve) => {
      openCreating(this.path, (err, fd, created) => {
        const abandoned = this.abandoned;
        if (!abandoned) {
          this.early = err ? { state: 'failed' } : { state: 'open', fd, created };
          return resolve();
        }
        this.early = null;
        // 'close': open() did not wait for this and has its own descriptor; 'remove': discarded meanwhile.
        const finish = (): void => {
          if (abandoned === 'remove' && created) this.removeFile(resolve);
          else {
            if (abandoned === 'remove') this.release();
            resolve();
          }
        };
        if (err) finish();
        else fs.close(fd, finish);
      });
    });
    return this.settled;
  }

  /**
   * Opens for appending (creating directories and the file as containerd does), unless prepare()
   * already did; throws when it cannot.
   */
  open(): void {
    const early = this.early;
    if (early?.state === 'open') {
      this.early = null;
      this.fd = early.fd;
      return;
    }
    // Still in flight: open synchronously now and let the background result be closed when it lands.
    if (early?.state === 'pending') this.abandoned = 'close';
    else this.early = null;
    this.fd = openForAppend(this.path);
    owners.set(this.path, this);
  }

  /** ReopenContainerLog: close the current descriptor and open the path again. */
  reopen(): void {
    const old = this.fd;
    this.fd = openForAppend(this.path);
    if (old !== null) fs.closeSync(old);
  }

  /**
   * The container goes away without having started: close what prepare() opened and remove the file
   * if prepare() created it, so that, as under containerd, a container that never ran leaves no log
   * file. The promise settles when that is done.
   */
  discard(): Promise<void> {
    if (this.abandoned || this.fd !== null) return this.settled;
    this.retired = true;
    const early = this.early;
    if (early?.state === 'pending') {
      this.abandoned = 'remove';
      return this.settled;
    }
    this.early = null;
    if (early?.state !== 'open') {
      this.release();
      return this.settled;
    }
    return new Promise((resolve) =>
      fs.close(early.fd, () => {
        if (early.created) this.removeFile(resolve);
        else {
          this.release();
          resolve();
        }
      }),
    );
  }

  /** Removes the file this writer created, unless another writer has taken the path since. */
  private removeFile(done: () => void): void {
    if (owners.get(this.path) !== this) return done();
    owners.delete(this.path);
    fs.unlink(this.path, () => done());
  }

  private release(): void {
    if (owners.get(this.path) === this) owners.delete(this.path);
  }

  write(stream: LogStream, text: string): void {
    let buffer = this.pending[stream] + text;
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      this.emitLine(stream, buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    while (Buffer.byteLength(buffer) > this.maxLine) {
      const [head, rest] = splitAtBytes(buffer, this.maxLine);
      this.entry(stream, 'P', head);
      buffer = rest;
    }
    this.pending[stream] = buffer;
  }

  /** Writes what is left of unterminated lines (at process exit). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream] !== '') this.entry(stream, 'F', this.pending[stream]);
      this.pending[stream] = '';
    }
  }

  close(): void {
    this.flush();
    if (this.fd === null) {
      // Never opened: the container did not start.
      void this.discard();
      return;
    }
    fs.closeSync(this.fd);
    this.fd = null;
    this.retired = true;
    this.release();
  }

  /** Write failures (e.g. the directory was removed under a running container). */
  get writeFailures(): number {
    return this.failures;
  }

  private emitLine(stream: LogStream, line: string): void {
    let rest = line;
    while (Buffer.byteLength(rest) > this.maxLine) {
      const [head, tail] = splitAtBytes(rest, this.maxLine);
      this.entry(stream, 'P', head);
      rest = tail;
    }
    this.entry(stream, 'F', rest);
  }

  private entry(stream: LogStream, tag: 'F' | 'P', message: string): void {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, `${rfc3339Nano(nowNs(this.clock))} ${stream} ${tag} ${message}\n`);
    } catch {
      this.failures++;
    }
  }
}

/**
 * Which writer last took each path: a writer removing a file it created must not remove it from under a
 * newer container given the same path in the meantime.
 */
const owners = new Map<string, CriLogWriter>();

/** containerd's openLogFile: O_APPEND|O_CREATE|O_WRONLY, mode 0640, after creating the directory. */
function openForAppend(path: string): number {
  try {
    return fs.openSync(path, 'a', 0o640);
  } catch (err) {
    // The directory is there nearly always (the kubelet makes it): create it only when it is not.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.mkdirSync(dirname(path), { recursive: true });
    return fs.openSync(path, 'a', 0o640);
  }
}

/**
 * openForAppend in the thread pool, telling whether this call created the file: exclusive create first,
 * an existing file opened as it is, the directory created when missing.
 */
function openCreating(path: string, done: (err: NodeJS.ErrnoException | null, fd: number, created: boolean) => void): void {
  const attempt = (mkdirOnMissing: boolean): void => {
    fs.open(path, 'ax', 0o640, (err, fd) => {
      if (!err) return done(null, fd, true);
      if (err.code === 'EEXIST') return fs.open(path, 'a', 0o640, (err2, fd2) => done(err2, fd2, false));
      if (err.code === 'ENOENT' && mkdirOnMissing) {
        return fs.mkdir(dirname(path), { recursive: true }, (err3) => (err3 ? done(err3, -1, false) : attempt(false)));
      }
      done(err, -1, false);
    });
  };
  attempt(true);
}

/**
 * Splits off the longest prefix of at most `maxBytes` UTF-8 bytes that ends on a code point boundary
 * (at least one code point, so progress is guaranteed). The limit is in bytes, as containerd's is.
 */
export function splitAtBytes(text: string, maxBytes: number): [string, string] {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes && end > 0) break;
    bytes += size;
    end += ch.length;
  }
  return [text.slice(0, end), text.slice(end)];
}

/** Parses one CRI log line (for tests and tools). */
export function parseCriLogLine(line: string): { time: string; stream: LogStream; tag: 'F' | 'P'; message: string } | null {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
  if (!m) return null;
  return { time: m[1]!, stream: m[2] as LogStream, tag: m[3] as 'F' | 'P', message: m[4]! };
}
