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

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly maxLine = DEFAULT_MAX_LOG_LINE,
  ) {}

  /** Opens (creating directories and the file) for appending; throws when it cannot. */
  open(): void {
    this.fd = openForAppend(this.path);
  }

  /** ReopenContainerLog: close the current descriptor and open the path again. */
  reopen(): void {
    const old = this.fd;
    this.open();
    if (old !== null) fs.closeSync(old);
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
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
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

/** The one parser of the format lives with the kubelet's log reader. */
export { parseCriLogLine } from '../../agent/logs/cri-log-format.js';
