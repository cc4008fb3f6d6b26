/**
 * One HTTP/2 connection carrying gRPC unary calls (RFC 9113; gRPC's PROTOCOL-HTTP2): the client
 * preface and SETTINGS (no push, a large receive window so replies need no flow-control round trips),
 * then per call one HEADERS frame (POST /package.Service/Method, content-type application/grpc,
 * te: trailers, grpc-timeout) and the request in DATA frames ending the stream. The reply is response
 * headers, one message and trailers with grpc-status and grpc-message, or a trailers-only reply.
 *
 * It answers SETTINGS and PING; honours the peer's flow-control windows, frame size and
 * MAX_CONCURRENT_STREAMS (calls beyond it wait their turn); returns received bytes to the connection
 * window; decodes every header block in order (HPACK) so the peer's dynamic table stays in step; ends
 * calls on RST_STREAM, GOAWAY and a lost socket, telling the caller which calls the server never saw.
 * No compression is offered, so a conforming server answers uncompressed.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../clock/clock.js';
import { HpackDecoder } from './hpack/decoder.js';
import { encodeHeaderBlock } from './hpack/encoder.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_WINDOW,
  FLAG,
  FRAME,
  frame,
  H2_ERROR,
  MAX_STREAM_ID,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  unpad,
  windowUpdateFrame,
} from './frames.js';
import { grpcTimeout, lengthPrefixed, readReply, STATUS, UnaryCallError, type ReplyStatus } from './grpc-wire.js';

/** The serialisers of one method, as @grpc/proto-loader's method definitions carry them. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

export interface UnaryCallOptions {
  /** The call fails DEADLINE_EXCEEDED this long after it was made (on the connection's clock). */
  readonly timeoutMs: number;
  /** Cancels the call: the stream is reset and the call fails CANCELLED. */
  readonly signal?: AbortSignal | undefined;
}

export interface ConnectionLimits {
  /** Largest reply message accepted (the kubelet allows 16 MiB for CRI). */
  readonly maxReceiveMessageBytes: number;
  /** Largest request message sent. */
  readonly maxSendMessageBytes: number;
  /**
   * Added to the deadline sent in grpc-timeout: the call ends on the caller's clock, and the server's own
   * timer should not beat it to a DEADLINE_EXCEEDED the caller cannot tell from a slow reply.
   */
  readonly wireDeadlineMarginMs: number;
  readonly userAgent: string;
}

/** What the peer may send before we return window: large, so replies never wait for a WINDOW_UPDATE. */
const RECEIVE_WINDOW = 1 << 30;

interface Call {
  readonly streamId: number;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: UnaryCallError) => void;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
  readonly chunks: Buffer[];
  received: number;
  /** Response headers seen (the next header block is the trailers). */
  responded: boolean;
  status: ReplyStatus | null;
  /** What the peer still lets us send on this stream. */
  window: number;
}

/** A call waiting for the peer's MAX_CONCURRENT_STREAMS to allow one more stream. */
interface Queued {
  readonly path: string;
  readonly body: Buffer;
  readonly timeoutMs: number;
  readonly call: Omit<Call, 'streamId'>;
}

/** Request bytes waiting for the peer's flow-control windows. */
interface PendingData {
  readonly streamId: number;
  readonly bytes: Buffer;
  offset: number;
}

export class H2UnaryConnection {
  private readonly decoder = new HpackDecoder();
  private readonly calls = new Map<number, Call>();
  private readonly queued: Queued[] = [];
  private readonly blocked: PendingData[] = [];
  /** The fixed part of each method's request header block. */
  private readonly headerBlocks = new Map<string, Buffer>();
  private nextStreamId = 1;
  private inbox: Buffer = Buffer.alloc(0);
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private peerMaxStreams = Infinity;
  private unacknowledged = 0;
  /** A header block split over CONTINUATION frames. */
  private continuation: { streamId: number; endStream: boolean; parts: Buffer[] } | null = null;
  private failure: UnaryCallError | null = null;
  /** GOAWAY received or close() called: no new calls; the socket ends when the last call does. */
  private draining = false;
  /** One timer for every call's deadline: armed for the earliest, re-armed when it fires. */
  private deadlineTimer: TimerHandle | null = null;
  private armedFor = Infinity;

  constructor(
    private readonly socket: Socket,
    private readonly clock: Pick<Clock, 'setTimeout' | 'monotonic'>,
    private readonly limits: ConnectionLimits,
  ) {
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) => this.fail(new UnaryCallError(STATUS.UNAVAILABLE, `connection error: ${err.message}`, { cause: err })));
    socket.on('close', () => this.fail(new UnaryCallError(STATUS.UNAVAILABLE, 'the connection closed')));
    // An idle connection does not keep the process alive (grpc-js unrefs idle sessions too).
    socket.unref();
    socket.write(
      Buffer.concat([
        CONNECTION_PREFACE,
        settingsFrame([
          [SETTING.ENABLE_PUSH, 0],
          [SETTING.INITIAL_WINDOW_SIZE, RECEIVE_WINDOW],
        ]),
        windowUpdateFrame(0, RECEIVE_WINDOW - DEFAULT_WINDOW),
      ]),
    );
  }

  /** Whether new calls may start here (not failed, not going away, stream identifiers left). */
  get usable(): boolean {
    return this.failure === null && !this.draining && this.nextStreamId <= MAX_STREAM_ID;
  }

  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: UnaryCallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (!this.usable) {
        reject(this.failure ?? new UnaryCallError(STATUS.UNAVAILABLE, 'the connection is going away', { unprocessed: true }));
        return;
      }
      const { signal, timeoutMs } = options;
      if (signal?.aborted) {
        reject(new UnaryCallError(STATUS.CANCELLED, 'cancelled before sending', { unprocessed: true, cause: signal.reason }));
        return;
      }
      let message: Buffer;
      try {
        message = method.requestSerialize(request);
      } catch (err) {
        reject(new UnaryCallError(STATUS.INTERNAL, `request not serializable: ${(err as Error).message}`, { unprocessed: true, cause: err }));
        return;
      }
      if (message.length > this.limits.maxSendMessageBytes) {
        reject(new UnaryCallError(STATUS.RESOURCE_EXHAUSTED, `request of ${message.length} bytes exceeds the limit of ${this.limits.maxSendMessageBytes}`, { unprocessed: true }));
        return;
      }
      const deadline = this.clock.monotonic() + timeoutMs;
      const onAbort = signal ? (): void => this.cancel(pending, signal.reason) : undefined;
      const pending: Omit<Call, 'streamId'> = {
        deserialize: method.responseDeserialize as (bytes: Buffer) => unknown,
        resolve: resolve as (value: unknown) => void,
        reject,
        deadline,
        signal,
        onAbort,
        chunks: [],
        received: 0,
        responded: false,
        status: null,
        window: 0,
      };
      if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
      if (this.calls.size === 0 && this.queued.length === 0) this.socket.ref();
      const queued: Queued = { path: method.path, body: lengthPrefixed(message), timeoutMs, call: pending };
      if (this.queued.length > 0 || this.calls.size >= this.peerMaxStreams) this.queued.push(queued);
      else this.start(queued);
      this.armDeadline(deadline, timeoutMs);
    });
  }

  /** No new calls; the socket ends once the calls in flight are answered. */
  close(): void {
    this.draining = true;
    this.endIfIdle();
  }

  private start({ path, body, timeoutMs, call: pending }: Queued): void {
    const streamId = this.nextStreamId;
    this.nextStreamId += 2;
    const call: Call = { ...pending, streamId, window: this.peerInitialWindow };
    this.calls.set(streamId, call);
    // HEADERS and DATA leave in one write (one system call) when the windows allow.
    this.socket.cork();
    this.socket.write(frame(FRAME.HEADERS, FLAG.END_HEADERS, streamId, this.headerBlock(path, timeoutMs)));
    this.blocked.push({ streamId, bytes: body, offset: 0 });
    this.sendBlocked();
    this.socket.uncork();
  }

  private headerBlock(path: string, timeoutMs: number): Buffer {
    let fixed = this.headerBlocks.get(path);
    if (!fixed) {
      fixed = encodeHeaderBlock([
        { name: ':method', value: 'POST' },
        { name: ':scheme', value: 'http' },
        { name: ':path', value: path },
        // The authority of a unix-socket channel: grpc-go and grpc-js both send "localhost".
        { name: ':authority', value: 'localhost' },
        { name: 'content-type', value: 'application/grpc' },
        { name: 'te', value: 'trailers' },
        { name: 'user-agent', value: this.limits.userAgent },
      ]);
      this.headerBlocks.set(path, fixed);
    }
    // Nothing is indexed, so blocks concatenate: the timeout is the only field that changes per call.
    return Buffer.concat([fixed, encodeHeaderBlock([{ name: 'grpc-timeout', value: grpcTimeout(timeoutMs + this.limits.wireDeadlineMarginMs) }])]);
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
    this.deadlineTimer = this.clock.setTimeout(() => this.onDeadline(), Math.max(0, inMs));
  }

  private onDeadline(): void {
    this.deadlineTimer = null;
    this.armedFor = Infinity;
    const now = this.clock.monotonic();
    let next = Infinity;
    for (const call of [...this.calls.values()]) {
      if (call.deadline <= now) {
        this.reset(call.streamId, H2_ERROR.CANCEL);
        this.settle(call, () => call.reject(new UnaryCallError(STATUS.DEADLINE_EXCEEDED, 'no reply within the deadline', { localDeadline: true })));
      } else next = Math.min(next, call.deadline);
    }
    for (const item of [...this.queued]) {
      if (item.call.deadline <= now) {
        this.queued.splice(this.queued.indexOf(item), 1);
        this.finish(item.call, () => item.call.reject(new UnaryCallError(STATUS.DEADLINE_EXCEEDED, 'no stream became free within the deadline', { localDeadline: true, unprocessed: true })));
      } else next = Math.min(next, item.call.deadline);
    }
    if (next !== Infinity) this.armDeadline(next, next - now);
  }

  private cancel(target: Omit<Call, 'streamId'>, reason: unknown): void {
    const index = this.queued.findIndex((q) => q.call === target);
    if (index >= 0) {
      this.queued.splice(index, 1);
      this.finish(target, () => target.reject(new UnaryCallError(STATUS.CANCELLED, 'cancelled before sending', { unprocessed: true, cause: reason })));
      return;
    }
    for (const call of this.calls.values()) {
      if (call.resolve !== target.resolve) continue;
      this.reset(call.streamId, H2_ERROR.CANCEL);
      this.settle(call, () => call.reject(new UnaryCallError(STATUS.CANCELLED, 'cancelled by the caller', { cause: reason })));
      return;
    }
  }

  private reset(streamId: number, code: number): void {
    if (!this.socket.destroyed) this.socket.write(rstStreamFrame(streamId, code));
  }

  /** Ends a started call: frees its stream, lets a queued call start. */
  private settle(call: Call, outcome: () => void): void {
    if (this.calls.get(call.streamId) !== call) return;
    this.calls.delete(call.streamId);
    this.finish(call, outcome);
    while (this.queued.length > 0 && this.calls.size < this.peerMaxStreams && this.usable) this.start(this.queued.shift()!);
  }

  private finish(call: Omit<Call, 'streamId'>, outcome: () => void): void {
    if (call.signal && call.onAbort) call.signal.removeEventListener('abort', call.onAbort);
    outcome();
    if (this.calls.size === 0 && this.queued.length === 0) {
      this.deadlineTimer?.cancel();
      this.deadlineTimer = null;
      this.armedFor = Infinity;
      if (!this.socket.destroyed) this.socket.unref();
      this.endIfIdle();
    }
  }

  private endIfIdle(): void {
    if (this.draining && this.calls.size === 0 && this.queued.length === 0 && !this.socket.destroyed) this.socket.end();
  }

  /** The connection is gone: calls in flight fail UNAVAILABLE, queued calls too but marked unsent. */
  private fail(error: UnaryCallError): void {
    this.failure ??= error;
    for (const call of [...this.calls.values()]) this.settle(call, () => call.reject(error));
    const unsent = new UnaryCallError(error.code, error.details, { unprocessed: true, cause: error.cause });
    for (const item of this.queued.splice(0)) this.finish(item.call, () => item.call.reject(unsent));
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
      this.fail(new UnaryCallError(STATUS.INTERNAL, `HTTP/2 protocol error: ${(err as Error).message}`, { cause: err }));
      return;
    }
    bytes = offset < bytes.length ? bytes.subarray(offset) : Buffer.alloc(0);
    // Keep a copy of a partial frame only: the chunk's buffer may be large and is otherwise free.
    this.inbox = bytes.length > 0 ? Buffer.from(bytes) : bytes;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation && type !== FRAME.CONTINUATION) throw new Error(`frame type ${type} inside a header block`);
    switch (type) {
      case FRAME.DATA:
        return this.onData(flags, streamId, payload);
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
        if (!call) return;
        // REFUSED_STREAM: the server did no work on it (RFC 9113 §8.7), so the call may be sent again.
        const refused = code === H2_ERROR.REFUSED_STREAM;
        const detail = refused ? 'the server refused the stream' : `the server reset the stream (HTTP/2 error code ${code})`;
        this.settle(call, () => call.reject(new UnaryCallError(refused ? STATUS.UNAVAILABLE : STATUS.INTERNAL, detail, { unprocessed: refused })));
        return;
      }
      case FRAME.SETTINGS:
        return this.onSettings(flags, payload);
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload)));
        return;
      case FRAME.GOAWAY: {
        const last = payload.readUInt32BE(0) & 0x7fffffff;
        const code = payload.readUInt32BE(4);
        this.draining = true;
        // Streams above the last one the server processed never reached it (RFC 9113 §6.8).
        const unsent = new UnaryCallError(STATUS.UNAVAILABLE, `the server is going away (HTTP/2 error code ${code})`, { unprocessed: true });
        for (const call of [...this.calls.values()]) if (call.streamId > last) this.settle(call, () => call.reject(unsent));
        for (const item of this.queued.splice(0)) this.finish(item.call, () => item.call.reject(unsent));
        this.endIfIdle();
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
        return; // PRIORITY and unknown types carry nothing for us (RFC 9113 §5.5)
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    // Flow control counts the whole payload, padding included (RFC 9113 §6.9.1).
    this.unacknowledged += payload.length;
    if (this.unacknowledged >= RECEIVE_WINDOW / 2) {
      this.socket.write(windowUpdateFrame(0, this.unacknowledged));
      this.unacknowledged = 0;
    }
    const call = this.calls.get(streamId);
    if (!call) return;
    const data = unpad(flags, payload);
    call.received += data.length;
    if (call.received > this.limits.maxReceiveMessageBytes + 5) {
      this.reset(streamId, H2_ERROR.CANCEL);
      this.settle(call, () => call.reject(new UnaryCallError(STATUS.RESOURCE_EXHAUSTED, `reply larger than the limit of ${this.limits.maxReceiveMessageBytes} bytes`)));
      return;
    }
    call.chunks.push(data);
    if (flags & FLAG.END_STREAM) this.endStream(call);
  }

  private onSettings(flags: number, payload: Buffer): void {
    if (flags & FLAG.ACK) return;
    for (let i = 0; i + 6 <= payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      if (id === SETTING.INITIAL_WINDOW_SIZE) {
        for (const call of this.calls.values()) call.window += value - this.peerInitialWindow;
        this.peerInitialWindow = value;
      } else if (id === SETTING.MAX_FRAME_SIZE) this.peerMaxFrame = value;
      else if (id === SETTING.MAX_CONCURRENT_STREAMS) this.peerMaxStreams = value;
    }
    this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0)));
    this.sendBlocked();
    while (this.queued.length > 0 && this.calls.size < this.peerMaxStreams && this.usable) this.start(this.queued.shift()!);
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
        this.settle(call, () => call.reject(new UnaryCallError(STATUS.UNAVAILABLE, `HTTP status ${status}`)));
        return;
      }
    } else call.status = headers;
    if (endStream) this.endStream(call);
  }

  private endStream(call: Call): void {
    this.settle(call, () => {
      const outcome = readReply(call.status, call.chunks.length === 1 ? call.chunks[0]! : Buffer.concat(call.chunks));
      if (outcome instanceof UnaryCallError) call.reject(outcome);
      else {
        try {
          call.resolve(call.deserialize(outcome));
        } catch (err) {
          call.reject(new UnaryCallError(STATUS.INTERNAL, `undecodable reply: ${(err as Error).message}`, { cause: err }));
        }
      }
    });
  }
}
