/**
 * A minimal SPDY/3.1 client of the remote command protocol, doing what client-go's SPDY executor does
 * (crictl before 1.30, the kubelet toward its runtime): POST with Upgrade: SPDY/3.1 and the offered
 * X-Stream-Protocol-Version values, then one stream per standard stream (error first), stdin written
 * and half-closed, terminal sizes as JSON on the resize stream; collects stdout, stderr and the error
 * stream until the server ends the connection. For tests and conformance specs.
 */
import { connect, type Socket } from 'node:net';
import { constants as zconstants, createDeflate, type Deflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy/dictionary.js';
import { controlFrame, dataFrame, encodeHeaderBlock, FrameReader, GOAWAY, HeaderInflater, RST_STREAM, SYN_REPLY, SYN_STREAM, type Frame } from './spdy/frames.js';
import type { StreamType, TerminalSize } from './spdy/remotecommand-protocol.js';
import { exitCodeOf, UpgradeRefused } from './streaming-client.js';

/** What client-go's SPDY executor offers, preferred first. */
export const CLIENT_GO_SPDY_PROTOCOLS: readonly string[] = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

export interface SpdyExecOptions {
  /** X-Stream-Protocol-Version values; default client-go's. An empty list sends no header. */
  readonly protocols?: readonly string[];
  /** Written on the stdin stream, which is then half-closed. Opens a stdin stream. */
  readonly stdin?: string;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
  /** Opens a resize stream (with a negotiated v3 or later) and sends `sizes` on it. */
  readonly tty?: boolean;
  readonly sizes?: readonly TerminalSize[];
  /** The streams to open instead of those the options above imply (error first unless left out). */
  readonly streams?: readonly StreamType[];
  /** Gives up (destroying the connection) after this long; default 30 s. */
  readonly timeoutMs?: number;
}

export interface SpdyExecResult {
  readonly protocol: string;
  readonly stdout: string;
  readonly stderr: string;
  /** The error stream: a Status object from v4 on (parsed), the failure's text before. */
  readonly status: unknown;
  readonly exitCode: number | null;
  /** Streams the server answered with SYN_REPLY, half-closed with FIN, and reset, in order. */
  readonly replied: readonly StreamType[];
  readonly finished: readonly StreamType[];
  readonly reset: readonly StreamType[];
  readonly goAway: boolean;
  /** What the server sent, in order: `reply T`, `data T N` (bytes), `fin T`, `reset T`, `goaway`. */
  readonly trace: readonly string[];
}

export async function runSpdyExec(url: string, options: SpdyExecOptions = {}): Promise<SpdyExecResult> {
  const offered = options.protocols ?? CLIENT_GO_SPDY_PROTOCOLS;
  const { socket, protocol, rest } = await upgrade(url, offered, options.timeoutMs ?? 30_000);
  const version = protocol === 'channel.k8s.io' ? 1 : Number(/^v(\d)\./.exec(protocol)?.[1] ?? 1);
  const streams =
    options.streams ??
    ([
      'error',
      ...(options.stdin !== undefined ? ['stdin'] : []),
      ...((options.stdout ?? true) ? ['stdout'] : []),
      ...((options.stderr ?? !options.tty) ? ['stderr'] : []),
      ...(options.tty && version >= 3 ? ['resize'] : []),
    ] as StreamType[]);
  const ids = new Map<number, StreamType>(streams.map((type, i) => [2 * i + 1, type]));
  const idOf = (type: StreamType): number => [...ids].find(([, t]) => t === type)![0];
  const received = new Map<StreamType, Buffer[]>();
  const result = { replied: [] as StreamType[], finished: [] as StreamType[], reset: [] as StreamType[], goAway: false, trace: [] as string[] };
  const reader = new FrameReader();
  const inflater = new HeaderInflater();
  const onFrame = (frame: Frame): void => {
    if (!frame.control) {
      const type = ids.get(frame.streamId);
      if (!type) return;
      received.set(type, [...(received.get(type) ?? []), frame.payload]);
      if (frame.payload.length > 0) result.trace.push(`data ${type} ${frame.payload.length}`);
      if (frame.flags & 1) {
        result.finished.push(type);
        result.trace.push(`fin ${type}`);
      }
    } else if (frame.type === SYN_REPLY) {
      inflater.inflate(frame.payload.subarray(4));
      const type = ids.get(frame.payload.readUInt32BE(0) & 0x7fffffff);
      if (type) {
        result.replied.push(type);
        result.trace.push(`reply ${type}`);
      }
    } else if (frame.type === RST_STREAM) {
      const type = ids.get(frame.payload.readUInt32BE(0) & 0x7fffffff);
      if (type) {
        result.reset.push(type);
        result.trace.push(`reset ${type}`);
      }
    } else if (frame.type === GOAWAY) {
      result.goAway = true;
      result.trace.push('goaway');
    }
  };
  const ended = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SPDY exec over ${url} did not finish in ${options.timeoutMs ?? 30_000} ms (stdout so far: ${JSON.stringify(text(received.get('stdout')))})`));
    }, options.timeoutMs ?? 30_000);
    socket.on('data', (chunk: Buffer) => reader.push(chunk).forEach(onFrame));
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  reader.push(rest).forEach(onFrame);
  const compressor = new HeaderCompressor();
  for (const [id, type] of ids) {
    const head = Buffer.alloc(10);
    head.writeUInt32BE(id, 0);
    socket.write(controlFrame(SYN_STREAM, 0, Buffer.concat([head, await compressor.compress(encodeHeaderBlock(new Map([['streamtype', [type]]])))])));
  }
  if (options.stdin !== undefined && streams.includes('stdin')) {
    if (options.stdin.length > 0) socket.write(dataFrame(idOf('stdin'), Buffer.from(options.stdin)));
    socket.write(dataFrame(idOf('stdin'), Buffer.alloc(0), true));
  }
  if (streams.includes('resize')) for (const s of options.sizes ?? []) socket.write(dataFrame(idOf('resize'), Buffer.from(`${JSON.stringify({ Width: s.width, Height: s.height })}\n`)));
  await ended;
  compressor.close();
  const errorText = text(received.get('error'));
  const status: unknown = version >= 4 && errorText ? JSON.parse(errorText) : errorText;
  return { protocol, stdout: text(received.get('stdout')), stderr: text(received.get('stderr')), status, exitCode: exitCodeOf(version, status), ...result };
}

const text = (chunks: Buffer[] | undefined): string => Buffer.concat(chunks ?? []).toString('utf8');

/** Sends the upgrade request; resolves on 101 with the chosen protocol, rejects with UpgradeRefused otherwise. */
function upgrade(url: string, offered: readonly string[], timeoutMs: number): Promise<{ socket: Socket; protocol: string; rest: Buffer }> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SPDY upgrade of ${url} not answered in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const versions = offered.length > 0 ? `X-Stream-Protocol-Version: ${offered.join(',')}\r\n` : '';
    socket.write(`POST ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${versions}Content-Length: 0\r\n\r\n`);
    let raw = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      raw = Buffer.concat([raw, chunk]);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = raw.subarray(0, end).toString('latin1');
      const code = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      if (code === 101) {
        socket.off('data', onData);
        clearTimeout(timer);
        resolve({ socket, protocol: /\r\nX-Stream-Protocol-Version: ([^\r]*)/i.exec(head)?.[1] ?? '', rest: raw.subarray(end + 4) });
        return;
      }
      const length = Number(/\r\nContent-Length: (\d+)/i.exec(head)?.[1] ?? NaN);
      if (raw.length - end - 4 >= length) {
        clearTimeout(timer);
        socket.destroy();
        reject(new UpgradeRefused(code, raw.subarray(end + 4, end + 4 + length).toString('utf8'), head));
      }
    };
    socket.on('data', onData);
  });
}

/** Header blocks compressed as spdystream's framer does: one zlib stream with the SPDY/3 dictionary, sync-flushed per block. */
export class HeaderCompressor {
  private readonly deflate: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });

  compress(block: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const take = (c: Buffer): number => chunks.push(c);
      this.deflate.on('data', take);
      this.deflate.write(block);
      this.deflate.flush(zconstants.Z_SYNC_FLUSH, () => {
        this.deflate.off('data', take);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  close(): void {
    this.deflate.close();
  }
}
