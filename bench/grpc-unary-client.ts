/**
 * A minimal gRPC unary client speaking HTTP/2 itself over a unix socket: the load generator of bench/fake-cri.
 *
 * Why not a grpc-js stub, nor node:http2: a sequential lifecycle is a chain of round trips, and the client's
 * own machinery is on that chain for every call. A grpc-js client (interceptors, filters, retry and
 * load-balancing layers) was about half of each round trip; node:http2's client still cost ~190 µs of CPU
 * per call here (a Duplex stream, header objects validated and converted both ways, an async resource bound
 * per request), about as much as the server under test. A load generator should cost as little as possible
 * so the figures are the runtime's; the kubelet's own client (grpc-go) is far cheaper than either. It is used
 * identically for every target (the fake, the bare grpc-js server, containerd).
 *
 * What it speaks (gRPC over HTTP/2, RFC 9113): the connection preface and SETTINGS (no push, a large receive
 * window so replies need no flow-control round trips), then per call one HEADERS frame (POST
 * /package.Service/Method, content-type application/grpc, te: trailers, grpc-timeout; HPACK from static-table
 * references and literals, never the peer's dynamic table) and the request as DATA frames ending the stream:
 * one length-prefixed message (flag byte 0 = uncompressed, 4-byte big-endian length). The reply is response
 * headers, one such message and trailers carrying grpc-status and grpc-message (percent-encoded), or a
 * trailers-only reply with the status in the headers. It answers SETTINGS and PING, honours the peer's flow
 * control windows and frame size for what it sends, ends calls on RST_STREAM and GOAWAY, and decodes every
 * header block in order (fakes/grpc/hpack) so the peer's dynamic table stays in step. No compression is
 * offered, so a conforming server answers uncompressed.
 */
import { connect as connectSocket, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../agent/clock/index.js';
import { HpackDecoder } from '../fakes/grpc/hpack/decoder.js';
import { encodeHeaderBlock } from '../fakes/grpc/hpack/encoder.js';

/** The serialisers of one method, as @grpc/proto-loader's service definitions carry them. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

/** A failed call: `code` is the gRPC status code, as on a grpc-js ServiceError. */
export class UnaryCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.name = 'UnaryCallError';
  }
}

export interface UnaryClient {
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number): Promise<Res>;
  close(): void;
}

const STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const INTERNAL = 13;

/** The socket path of a `unix:///abs/path` or `unix:/abs/path` endpoint (the only kind CRI runtimes serve). */
export function unixSocketPath(endpoint: string): string {
  const match = /^unix:(?:\/\/)?(\/[^/].*)$/.exec(endpoint);
  if (!match) throw new Error(`endpoint must be unix:///absolute/path, got "${endpoint}"`);
  return match[1]!;
}

/** The status-bearing headers of a reply (response headers or trailers), as readReply reads them. */
export type ReplyStatus = Readonly<Record<string, string | undefined>>;

/** One HTTP/2 connection to the endpoint; calls share it, as a gRPC channel's subchannel does. */
export function connectUnary(endpoint: string, clock: Pick<Clock, 'setTimeout' | 'monotonic'>): UnaryClient {
  return new Http2Connection(connectSocket(unixSocketPath(endpoint)), clock);
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const SETTING = { ENABLE_PUSH: 0x2, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5 } as const;
/** What we let the peer send before we acknowledge it: large, so replies never wait for a WINDOW_UPDATE. */
const RECEIVE_WINDOW = 1 << 30;
const DEFAULT_WINDOW = 65_535;

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
}

function windowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, payload);
}

interface PendingCall {
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: UnaryCallError) => void;
  readonly deadline: number;
  readonly chunks: Buffer[];
  /** Response headers seen (the next header block is the trailers). */
  responded: boolean;
  status: ReplyStatus | null;
  /** What the peer still lets us send on this stream. */
  window: number;
}

/** Request bytes waiting for the peer's flow-control window. */
interface PendingData {
  readonly streamId: number;
  readonly bytes: Buffer;
  offset: number;
}

class Http2Connection implements UnaryClient {
  private readonly decoder = new HpackDecoder();
  private readonly calls = new Map<number, PendingCall>();
  private readonly blocked: PendingData[] = [];
  /** Header blocks by path and timeout: the same few are sent again and again. */
  private readonly headerBlocks = new Map<string, Buffer>();
  private nextStreamId = 1;
  private inbox: Buffer = Buffer.alloc(0);
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private received = 0;
  /** A header block split over CONTINUATION frames. */
  private continuation: { streamId: number; endStream: boolean; parts: Buffer[] } | null = null;
  private failure: UnaryCallError | null = null;
  private closing = false;
  /** One timer for every call's deadline: armed for the earliest, re-armed when it fires. */
  private deadlineTimer: TimerHandle | null = null;
  private armedFor = Infinity;

  constructor(
    private readonly socket: Socket,
    private readonly clock: Pick<Clock, 'setTimeout' | 'monotonic'>,
  ) {
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) => this.fail(new UnaryCallError(UNAVAILABLE, err.message)));
    socket.on('close', () => this.fail(new UnaryCallError(UNAVAILABLE, 'the connection closed')));
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(SETTING.ENABLE_PUSH, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTING.INITIAL_WINDOW_SIZE, 6);
    settings.writeUInt32BE(RECEIVE_WINDOW, 8);
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0, settings), windowUpdate(0, RECEIVE_WINDOW - DEFAULT_WINDOW)]));
  }

  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (this.failure || this.closing) {
        reject(this.failure ?? new UnaryCallError(UNAVAILABLE, 'the client is closed'));
        return;
      }
      const message = method.requestSerialize(request);
      const body = Buffer.allocUnsafe(5 + message.length);
      body[0] = 0;
      body.writeUInt32BE(message.length, 1);
      message.copy(body, 5);
      const streamId = this.nextStreamId;
      this.nextStreamId += 2;
      const deadline = this.clock.monotonic() + timeoutMs + 1_000;
      this.calls.set(streamId, {
        deserialize: method.responseDeserialize as (bytes: Buffer) => unknown,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline,
        chunks: [],
        responded: false,
        status: null,
        window: this.peerInitialWindow,
      });
      const headers = this.headerBlock(method.path, timeoutMs);
      // HEADERS and DATA leave in one write (one system call) when the windows allow.
      this.socket.cork();
      this.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS, streamId, headers));
      this.blocked.push({ streamId, bytes: body, offset: 0 });
      this.sendBlocked();
      this.socket.uncork();
      this.armDeadline(deadline, timeoutMs + 1_000);
    });
  }

  close(): void {
    this.closing = true;
    if (this.calls.size === 0) this.socket.end();
  }

  private headerBlock(path: string, timeoutMs: number): Buffer {
    const timeout = `${Math.max(1, Math.ceil(timeoutMs))}m`;
    const key = `${path} ${timeout}`;
    let block = this.headerBlocks.get(key);
    if (!block) {
      block = encodeHeaderBlock([
        { name: ':method', value: 'POST' },
        { name: ':scheme', value: 'http' },
        { name: ':path', value: path },
        // The authority of a unix-socket channel: grpc-go and grpc-js both send "localhost".
        { name: ':authority', value: 'localhost' },
        { name: 'content-type', value: 'application/grpc' },
        { name: 'te', value: 'trailers' },
        { name: 'grpc-timeout', value: timeout },
      ]);
      this.headerBlocks.set(key, block);
    }
    return block;
  }

  /** Sends request DATA as far as the peer's windows and frame size allow; the rest waits for WINDOW_UPDATE. */
  private sendBlocked(): void {
    while (this.blocked.length > 0) {
      const data = this.blocked[0]!;
      const call = this.calls.get(data.streamId);
      if (!call) {
        this.blocked.shift();
        continue;
      }
      const left = data.bytes.length - data.offset;
      const size = Math.min(left, this.peerMaxFrame, this.sendWindow, call.window);
      if (size <= 0 && left > 0) return;
      const last = size === left;
      this.socket.write(frame(FRAME.DATA, last ? FLAG.END_STREAM : 0, data.streamId, data.bytes.subarray(data.offset, data.offset + size)));
      data.offset += size;
      this.sendWindow -= size;
      call.window -= size;
      if (last) this.blocked.shift();
    }
  }

  private armDeadline(deadline: number, inMs: number): void {
    if (deadline >= this.armedFor) return;
    this.deadlineTimer?.cancel();
    this.armedFor = deadline;
    this.deadlineTimer = this.clock.setTimeout(() => this.onDeadline(), inMs);
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    this.armedFor = Infinity;
    const now = this.clock.monotonic();
    let next = Infinity;
    for (const [streamId, call] of this.calls) {
      if (call.deadline <= now) {
        this.reset(streamId);
        this.settle(streamId, call, () => call.reject(new UnaryCallError(DEADLINE_EXCEEDED, 'no reply within the deadline')));
      } else next = Math.min(next, call.deadline);
    }
    if (next !== Infinity) this.armDeadline(next, next - now);
  }

  private reset(streamId: number): void {
    const code = Buffer.alloc(4);
    code.writeUInt32BE(0x8, 0); // CANCEL
    this.socket.write(frame(FRAME.RST_STREAM, 0, streamId, code));
  }

  private settle(streamId: number, call: PendingCall, outcome: () => void): void {
    if (this.calls.get(streamId) !== call) return;
    this.calls.delete(streamId);
    outcome();
    if (this.calls.size === 0) {
      this.deadlineTimer?.cancel();
      this.deadlineTimer = null;
      this.armedFor = Infinity;
      if (this.closing) this.socket.end();
    }
  }

  private fail(error: UnaryCallError): void {
    this.failure ??= error;
    for (const [streamId, call] of [...this.calls]) this.settle(streamId, call, () => call.reject(error));
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private onBytes(chunk: Buffer): void {
    let bytes = this.inbox.length > 0 ? Buffer.concat([this.inbox, chunk]) : chunk;
    let offset = 0;
    try {
      while (bytes.length - offset >= 9) {
        const length = bytes.readUIntBE(offset, 3);
        if (bytes.length - offset < 9 + length) break;
        const type = bytes[offset + 3]!;
        const flags = bytes[offset + 4]!;
        const streamId = bytes.readUInt32BE(offset + 5) & 0x7fffffff;
        this.onFrame(type, flags, streamId, bytes.subarray(offset + 9, offset + 9 + length));
        offset += 9 + length;
      }
    } catch (err) {
      this.fail(new UnaryCallError(INTERNAL, `HTTP/2 protocol error: ${(err as Error).message}`));
      return;
    }
    if (offset < bytes.length) bytes = bytes.subarray(offset);
    else bytes = Buffer.alloc(0);
    // Keep a copy of a partial frame only: the chunk's buffer may be large and is otherwise free.
    this.inbox = bytes.length > 0 ? Buffer.from(bytes) : bytes;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation && type !== FRAME.CONTINUATION) throw new Error(`frame type ${type} inside a header block`);
    switch (type) {
      case FRAME.DATA: {
        this.received += payload.length;
        if (this.received >= RECEIVE_WINDOW / 2) {
          this.socket.write(windowUpdate(0, this.received));
          this.received = 0;
        }
        const call = this.calls.get(streamId);
        if (call) call.chunks.push(unpad(flags, payload));
        if (flags & FLAG.END_STREAM) this.endStream(streamId);
        return;
      }
      case FRAME.HEADERS: {
        let block = unpad(flags, payload);
        if (flags & FLAG.PRIORITY) block = block.subarray(5);
        const endStream = (flags & FLAG.END_STREAM) !== 0;
        if (flags & FLAG.END_HEADERS) this.onHeaderBlock(streamId, block, endStream);
        else this.continuation = { streamId, endStream, parts: [Buffer.from(block)] };
        return;
      }
      case FRAME.CONTINUATION: {
        const pending = this.continuation;
        if (!pending || pending.streamId !== streamId) throw new Error('CONTINUATION without a header block');
        pending.parts.push(Buffer.from(payload));
        if (flags & FLAG.END_HEADERS) {
          this.continuation = null;
          this.onHeaderBlock(streamId, Buffer.concat(pending.parts), pending.endStream);
        }
        return;
      }
      case FRAME.RST_STREAM: {
        const call = this.calls.get(streamId);
        const code = payload.length >= 4 ? payload.readUInt32BE(0) : 0;
        if (call) this.settle(streamId, call, () => call.reject(new UnaryCallError(UNAVAILABLE, `the server reset the stream (HTTP/2 error code ${code})`)));
        return;
      }
      case FRAME.SETTINGS: {
        if (flags & FLAG.ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          const id = payload.readUInt16BE(i);
          const value = payload.readUInt32BE(i + 2);
          if (id === SETTING.INITIAL_WINDOW_SIZE) {
            for (const call of this.calls.values()) call.window += value - this.peerInitialWindow;
            this.peerInitialWindow = value;
          } else if (id === SETTING.MAX_FRAME_SIZE) this.peerMaxFrame = value;
        }
        this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0)));
        this.sendBlocked();
        return;
      }
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload)));
        return;
      case FRAME.GOAWAY: {
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        const code = payload.readUInt32BE(4);
        const error = new UnaryCallError(UNAVAILABLE, `the server is going away (HTTP/2 error code ${code})`);
        this.failure ??= error;
        for (const [id, call] of [...this.calls]) if (id > last) this.settle(id, call, () => call.reject(error));
        return;
      }
      case FRAME.WINDOW_UPDATE: {
        const increment = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) this.sendWindow += increment;
        else {
          const call = this.calls.get(streamId);
          if (call) call.window += increment;
        }
        this.sendBlocked();
        return;
      }
      case FRAME.PUSH_PROMISE:
        throw new Error('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown types carry nothing for us
    }
  }

  /** Every block is decoded, in order, whatever its stream: the peer's dynamic table depends on it. */
  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const fields = this.decoder.decode(block);
    const call = this.calls.get(streamId);
    if (!call) return;
    const headers: Record<string, string> = {};
    for (const { name, value } of fields) headers[name] = value;
    if (!call.responded) {
      call.responded = true;
      // A trailers-only reply (an error before any message) carries the status in the headers.
      if (headers['grpc-status'] !== undefined) call.status = headers;
      else if (headers[':status'] !== '200') {
        const status = headers[':status'];
        this.settle(streamId, call, () => call.reject(new UnaryCallError(UNAVAILABLE, `HTTP status ${status}`)));
        return;
      }
    } else call.status = headers;
    if (endStream) this.endStream(streamId);
  }

  private endStream(streamId: number): void {
    const call = this.calls.get(streamId);
    if (!call) return;
    this.settle(streamId, call, () => {
      const outcome = readReply(call.status, call.chunks.length === 1 ? call.chunks[0]! : Buffer.concat(call.chunks));
      if (outcome instanceof UnaryCallError) call.reject(outcome);
      else {
        try {
          call.resolve(call.deserialize(outcome));
        } catch (err) {
          call.reject(new UnaryCallError(INTERNAL, `undecodable reply: ${(err as Error).message}`));
        }
      }
    });
  }
}

/** A frame's payload without its padding (PADDED flag: a pad-length octet first, that many octets last). */
function unpad(flags: number, payload: Buffer): Buffer {
  if (!(flags & FLAG.PADDED)) return payload;
  const pad = payload[0] ?? 0;
  if (pad >= payload.length) throw new Error('padding exceeds the frame');
  return payload.subarray(1, payload.length - pad);
}

/** The reply's message bytes, or the error its status names. */
export function readReply(status: ReplyStatus | null, body: Buffer): Buffer | UnaryCallError {
  if (!status) return new UnaryCallError(INTERNAL, 'the stream ended without a grpc-status');
  const code = Number(status['grpc-status']);
  if (!Number.isInteger(code)) return new UnaryCallError(INTERNAL, `malformed grpc-status "${String(status['grpc-status'])}"`);
  if (code !== 0) return new UnaryCallError(code, percentDecode(String(status['grpc-message'] ?? '')));
  if (body.length < 5) return new UnaryCallError(INTERNAL, 'OK status without a message');
  if (body[0] !== 0) return new UnaryCallError(INTERNAL, 'compressed reply, but no compression was offered');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return new UnaryCallError(INTERNAL, `reply frame declares ${length} bytes, carries ${body.length - 5}`);
  return body.subarray(5);
}

/** grpc-message is percent-encoded (bytes outside printable ASCII, and '%' itself). */
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
