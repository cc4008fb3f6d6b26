/**
 * What of a log file reaches the client (upstream kuberuntime/logs logWriter and util/tail): entries
 * older than `since` are skipped, a timestamp prefixes each logical line when asked (partial entries
 * continue the line they started, so they get none), and output stops at limitBytes, cutting the
 * last entry. Pure: parsed entries in, bytes out.
 */
import { fixedNanoTimestamp, type LogMessage, type LogStream } from './cri-log-format.js';
import type { LogOptions } from './pod-log-options.js';

export interface LogChunk {
  readonly stream: LogStream;
  readonly data: Buffer;
}

export class LogWriter {
  private remain: number;
  private atLineStart = true;

  constructor(private readonly opts: LogOptions) {
    this.remain = opts.bytes >= 0 ? opts.bytes : Number.POSITIVE_INFINITY;
  }

  /** The bytes to send for one entry (null when skipped); check `exhausted` afterwards. */
  write(msg: LogMessage): LogChunk | null {
    const lineStart = this.atLineStart;
    // Whether the next entry starts a line follows from this one even when this one is skipped.
    this.atLineStart = msg.log.length === 0 || msg.log[msg.log.length - 1] === 0x0a;
    if (msg.ns < this.opts.sinceNs) return null;
    let data = msg.log;
    if (this.opts.timestamp && lineStart) data = Buffer.concat([Buffer.from(`${fixedNanoTimestamp(msg.time)} `), data]);
    if (data.length > this.remain) data = data.subarray(0, this.remain);
    this.remain -= data.length;
    return { stream: msg.stream, data };
  }

  /** limitBytes reached: nothing more may be sent. */
  get exhausted(): boolean {
    return this.remain <= 0;
  }
}

/** Block size of the backwards scan for the tail (upstream reads 1 KiB blocks). */
const TAIL_BLOCK = 4096;

/**
 * Offset where the last `n` complete lines of a file start (0 for n < 0); a trailing line without an
 * end-of-line is not counted and so comes after them. `readAt` reads `length` bytes at `position`.
 */
export async function findTailLineStart(
  size: number,
  n: number,
  readAt: (position: number, length: number) => Promise<Buffer>,
): Promise<number> {
  if (n < 0) return 0;
  let count = 0;
  let left = size;
  let block: Buffer = Buffer.alloc(0);
  for (let right = size; right > 0 && count <= n; right -= TAIL_BLOCK) {
    left = Math.max(0, right - TAIL_BLOCK);
    block = await readAt(left, right - left);
    count += countEol(block);
  }
  // The first block read last holds the surplus lines: skip past them.
  for (; count > n; count--) {
    const idx = block.indexOf(0x0a) + 1;
    block = block.subarray(idx);
    left += idx;
  }
  return left;
}

function countEol(buf: Buffer): number {
  let count = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) count++;
  return count;
}
