/**
 * One HTTP/2 connection carrying gRPC unary calls (RFC 9113; gRPC's PROTOCOL-HTTP2): the client
 * preface and SETTINGS (no push, a large receive window so replies need no flow-control round trips),
 * then per call one HEADERS frame (POST /package.Service/Method, content-type application/grpc,
 * te: trailers, grpc-timeout) and the request in DATA frames ending the stream. The reply is response
 * headers, one message and trailers with grpc-status and grpc-message, or a trailers-only reply.
 *
 * It answers SETTINGS and PING; honours the peer's flow-control windows (a stream waiting for its own
 * window does not hold back the others), frame size and MAX_CONCURRENT_STREAMS (calls beyond it wait
 * their turn); returns received bytes to the connection window; decodes every header block in order
 * (HPACK), those of streams it already forgot too, so the peer's dynamic table stays in step; ends
 * calls on RST_STREAM, GOAWAY and a lost socket, telling the caller which calls the server never saw;
 * resets a stream the server ended before the request was sent in full (gRPC's early server closure).
 * Replies that are not gRPC (another :status or content-type) fail with the status gRPC maps them to.
 * Frames that break RFC 9113 are connection errors (a GOAWAY with the error code, then the socket is
 * destroyed) or, where the RFC allows, stream errors that fail one call. No compression is offered, so a
 * conforming server answers uncompressed.
 */
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../clock/clock.js';
import { HpackDecoder } from './hpack/decoder.js';
import { HpackError } from './hpack/errors.js';
import { encodeHeaderBlock } from './hpack/encoder.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW,
  FLAG,
  FRAME,
  frame,
  goAwayFrame,
  H2_ERROR,
  H2ConnectionError,
  MAX_FRAME_SIZE_LIMIT,
  MAX_STREAM_ID,
  MAX_WINDOW,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  unpad,
  windowUpdateFrame,
} from './frames.js';
import { grpcTimeout, lengthPrefixed, nonGrpcReply, readReply, resetStreamError, STATUS, UnaryCallError, type ReplyStatus } from './grpc-wire.js';

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

/**
 * What the peer may send before we return window, on the connection and on each stream: large, so replies
 * never wait for a WINDOW_UPDATE. A stream carries one reply, which the receive limit (16 MiB by default)
 * resets long before it reaches this, so streams are never given window back.
 */
const RECEIVE_WINDOW = 1 << 30;
/** The most a header block split over CONTINUATION frames may add up to before it is refused (no endless CONTINUATION). */
const MAX_HEADER_BLOCK = 1 << 20;
/**
 * The largest HPACK table the peer may ask for: we never send SETTINGS_HEADER_TABLE_SIZE, so it is the
 * protocol's default (RFC 7541 §6.3 makes a larger size update a decoding error).
 */
const HEADER_TABLE_SIZE = 4096;
/** An HPACK dynamic table size update to 0 (RFC 7541 §6.3). */
const TABLE_SIZE_ZERO = Buffer.from([0x20]);

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
  /** What the peer still lets us send on this stream (negative when the peer lowered INITIAL_WINDOW_SIZE). */
  window: number;
  /** The request went out in full, END_STREAM included. */
  requestSent: boolean;
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
  private readonly decoder = new HpackDecoder(HEADER_TABLE_SIZE);
  private readonly calls = new Map<number, Call>();
  private readonly queued: Queued[] = [];
  private readonly blocked: PendingData[] = [];
  /** The fixed part of each method's request header block. */
  private readonly headerBlocks = new Map<string, Buffer>();
  private nextStreamId = 1;
  private inbox: Buffer = Buffer.alloc(0);
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = DEFAULT_MAX_FRAME_SIZE;
  private peerMaxStreams = Infinity;
  private unacknowledged = 0;
  /** The server's preface (a SETTINGS frame) arrived. */
  private prefaceSeen = false;
  /** A header block split over CONTINUATION frames. */
  private continuation: { streamId: number; endStream: boolean; parts: Buffer[]; size: number } | null = null;
  private failure: UnaryCallError | null = null;
  /** GOAWAY received: no new calls, queued ones are sent elsewhere; the socket ends when the last call does. */
  private goingAway = false;
  /** close() called: no new calls; queued ones still start; the socket ends when the last call does. */
  private closing = false;
  /** One timer for every call's deadline: armed for the earliest, re-armed when it fires. */
  private deadlineTimer: TimerHandle | null = null;
  private armedFor = Infinity;
  /**
   * The server lowered SETTINGS_HEADER_TABLE_SIZE below the 4096 our encoder may assume: the next header
   * block must start with a table size update (RFC 7541 §4.2). Ours never indexes, so it shrinks to 0, once.
   */
  private tableSizeUpdate = false;
  private encoderTableSize = 4096;

  constructor(
    private readonly socket: Socket,
    private readonly clock: Pick<Clock, 'setTimeout' | 'monotonic'>,
    private readonly limits: ConnectionLimits,
  ) {
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', (err) => this.fail(new UnaryCallError(STATUS.UNAVAILABLE, `connection error: ${err.message}`, { cause: err })));
    // The server's end of the stream: nothing more can be answered, and a call written now would be lost unseen.
    socket.on('end', () => this.fail(new UnaryCallError(STATUS.UNAVAILABLE, 'the server closed the connection')));
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

  /** Whether new calls may start here (not failed, not going away or closed, stream identifiers left). */
  get usable(): boolean {
    return this.failure === null && !this.goingAway && !this.closing && this.nextStreamId <= MAX_STREAM_ID;
  }

  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: UnaryCallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (!this.usable) {
        const { failure } = this;
        const why = failure ? failure.details : 'the connection is going away';
        reject(new UnaryCallError(failure ? failure.code : STATUS.UNAVAILABLE, why, { unprocessed: true, cause: failure?.cause }));
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
        requestSent: false,
      };
      if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
      if (this.calls.size === 0 && this.queued.length === 0) this.socket.ref();
      const queued: Queued = { path: method.path, body: lengthPrefixed(message), timeoutMs, call: pending };
      if (this.queued.length > 0 || this.calls.size >= this.peerMaxStreams) this.queued.push(queued);
      else this.start(queued);
      this.armDeadline(deadline, timeoutMs);
    });
  }

  /** No new calls; the socket ends once the calls in flight (queued ones included) are answered. */
  close(): void {
    this.closing = true;
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
    const timeout = encodeHeaderBlock([{ name: 'grpc-timeout', value: grpcTimeout(timeoutMs + this.limits.wireDeadlineMarginMs) }]);
    if (!this.tableSizeUpdate) return Buffer.concat([fixed, timeout]);
    this.tableSizeUpdate = false;
    return Buffer.concat([TABLE_SIZE_ZERO, fixed, timeout]);
  }

  /**
   * Sends request DATA, in call order, as far as the peer's windows and frame size allow; the rest waits for
   * WINDOW_UPDATE. A stream out of its own window is passed over, so it does not hold back the calls after it.
   */
  private sendBlocked(): void {
    let i = 0;
    while (i < this.blocked.length && this.sendWindow > 0) {
      const data = this.blocked[i]!;
      const call = this.calls.get(data.streamId);
      if (!call) {
        this.blocked.splice(i, 1);
        continue;
      }
      if (call.window <= 0) {
        i++;
        continue;
      }
      // Never empty: every request is at least its 5-octet gRPC prefix.
      const left = data.bytes.length - data.offset;
      const size = Math.min(left, this.peerMaxFrame, this.sendWindow, call.window);
      const last = size === left;
      this.socket.write(frame(FRAME.DATA, last ? FLAG.END_STREAM : 0, data.streamId, data.bytes.subarray(data.offset, data.offset + size)));
      data.offset += size;
      this.sendWindow -= size;
      call.window -= size;
      if (last) {
        call.requestSent = true;
        this.blocked.splice(i, 1);
      }
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
    if (this.socket.writable) this.socket.write(rstStreamFrame(streamId, code));
  }

  /**
   * A stream error (RFC 9113 §5.4.2) on the server's part: the call fails INTERNAL, and the stream is
   * reset unless both sides already ended it.
   */
  private streamError(call: Call, code: number, detail: string, serverEnded: boolean): void {
    if (!serverEnded || !call.requestSent) this.reset(call.streamId, code);
    this.settle(call, () => call.reject(new UnaryCallError(STATUS.INTERNAL, detail)));
  }

  /** Ends a started call: frees its stream, lets a queued call start. */
  private settle(call: Call, outcome: () => void): void {
    if (this.calls.get(call.streamId) !== call) return;
    this.calls.delete(call.streamId);
    this.finish(call, outcome);
    this.startQueued();
  }

  /** Starts queued calls while the peer's MAX_CONCURRENT_STREAMS allows; once stream identifiers run out, sends them elsewhere. */
  private startQueued(): void {
    if (this.failure !== null || this.goingAway) return;
    while (this.queued.length > 0) {
      if (this.nextStreamId > MAX_STREAM_ID) {
        const unsent = new UnaryCallError(STATUS.UNAVAILABLE, 'the connection used up its stream identifiers', { unprocessed: true });
        for (const item of this.queued.splice(0)) this.finish(item.call, () => item.call.reject(unsent));
        return;
      }
      if (this.calls.size >= this.peerMaxStreams) return;
      this.start(this.queued.shift()!);
    }
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
    const ending = this.closing || this.goingAway || this.nextStreamId > MAX_STREAM_ID;
    if (ending && this.calls.size === 0 && this.queued.length === 0 && !this.socket.destroyed) this.socket.end();
  }

  /**
   * The connection is gone: calls in flight fail with `error`, queued calls too but marked unsent. On a
   * connection error of ours, `goAwayCode` tells the server why first (RFC 9113 §5.4.1).
   */
  private fail(error: UnaryCallError, goAwayCode?: number): void {
    if (goAwayCode !== undefined && this.failure === null && this.socket.writable) this.socket.write(goAwayFrame(0, goAwayCode, error.details));
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
        // We never raise SETTINGS_MAX_FRAME_SIZE, so larger frames are refused before they are buffered.
        if (length > DEFAULT_MAX_FRAME_SIZE) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `a frame of ${length} octets, above the ${DEFAULT_MAX_FRAME_SIZE} allowed`);
        if (bytes.length - offset < 9 + length) break;
        const type = bytes[offset + 3]!;
        const flags = bytes[offset + 4]!;
        const streamId = bytes.readUInt32BE(offset + 5) & 0x7fffffff;
        this.onFrame(type, flags, streamId, bytes.subarray(offset + 9, offset + 9 + length));
        offset += 9 + length;
      }
    } catch (err) {
      const code = err instanceof H2ConnectionError ? err.errorCode : err instanceof HpackError ? H2_ERROR.COMPRESSION_ERROR : H2_ERROR.INTERNAL_ERROR;
      this.fail(new UnaryCallError(STATUS.INTERNAL, `HTTP/2 protocol error: ${(err as Error).message}`, { cause: err }), code);
      return;
    }
    bytes = offset < bytes.length ? bytes.subarray(offset) : Buffer.alloc(0);
    // Keep a copy of a partial frame only: the chunk's buffer may be large and is otherwise free.
    this.inbox = bytes.length > 0 ? Buffer.from(bytes) : bytes;
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.continuation && type !== FRAME.CONTINUATION) throw protocolError(`frame type ${type} inside a header block`);
    if (!this.prefaceSeen) {
      if (type !== FRAME.SETTINGS || flags & FLAG.ACK) throw protocolError(`the server's first frame is of type ${type}, not SETTINGS`);
      this.prefaceSeen = true;
    }
    switch (type) {
      case FRAME.DATA:
        if (streamId === 0) throw protocolError('DATA on stream 0');
        return this.onData(flags, streamId, payload);
      case FRAME.HEADERS: {
        if (streamId === 0) throw protocolError('HEADERS on stream 0');
        let block = unpad(flags, payload);
        if (flags & FLAG.PRIORITY) {
          if (block.length < 5) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields');
          block = block.subarray(5);
        }
        const endStream = (flags & FLAG.END_STREAM) !== 0;
        if (flags & FLAG.END_HEADERS) this.onHeaderBlock(streamId, block, endStream);
        else this.continuation = { streamId, endStream, parts: [Buffer.from(block)], size: block.length };
        return;
      }
      case FRAME.CONTINUATION: {
        const pending = this.continuation;
        if (!pending || pending.streamId !== streamId) throw protocolError('CONTINUATION without a header block');
        pending.size += payload.length;
        if (pending.size > MAX_HEADER_BLOCK) throw new H2ConnectionError(H2_ERROR.ENHANCE_YOUR_CALM, `a header block above ${MAX_HEADER_BLOCK} octets`);
        pending.parts.push(Buffer.from(payload));
        if (flags & FLAG.END_HEADERS) {
          this.continuation = null;
          this.onHeaderBlock(streamId, Buffer.concat(pending.parts), pending.endStream);
        }
        return;
      }
      case FRAME.RST_STREAM: {
        if (streamId === 0) throw protocolError('RST_STREAM on stream 0');
        if (payload.length !== 4) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `RST_STREAM of ${payload.length} octets`);
        const call = this.calls.get(streamId);
        if (!call) return this.checkOpened(streamId);
        const code = payload.readUInt32BE(0);
        // The server cancelling once our deadline has passed is that deadline, seen first on its side (gRPC's client cancellation).
        const error =
          code === H2_ERROR.CANCEL && this.clock.monotonic() >= call.deadline
            ? new UnaryCallError(STATUS.DEADLINE_EXCEEDED, 'no reply within the deadline (the server cancelled the stream)', { localDeadline: true })
            : resetStreamError(code);
        this.settle(call, () => call.reject(error));
        return;
      }
      case FRAME.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FRAME.PING:
        if (streamId !== 0) throw protocolError('PING on a stream');
        if (payload.length !== 8) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `PING of ${payload.length} octets`);
        if (!(flags & FLAG.ACK) && this.socket.writable) this.socket.write(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload)));
        return;
      case FRAME.GOAWAY:
        if (streamId !== 0) throw protocolError('GOAWAY on a stream');
        if (payload.length < 8) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `GOAWAY of ${payload.length} octets`);
        return this.onGoAway(payload);
      case FRAME.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FRAME.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE although push is disabled');
      default:
        return; // PRIORITY and unknown types carry nothing for us (RFC 9113 §5.5)
    }
  }

  /**
   * A frame for a stream that is not a call in flight: fine for one we ended (the server may not know yet),
   * a connection error for one never opened (RFC 9113 §5.1: even streams, since push is off, and those
   * above the last we opened).
   */
  private checkOpened(streamId: number): void {
    if (streamId % 2 === 0 || streamId >= this.nextStreamId) throw protocolError(`a frame on stream ${streamId}, which the client never opened`);
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    // Flow control counts the whole payload, padding included (RFC 9113 §6.9.1).
    this.unacknowledged += payload.length;
    if (this.unacknowledged >= RECEIVE_WINDOW / 2 && this.socket.writable) {
      this.socket.write(windowUpdateFrame(0, this.unacknowledged));
      this.unacknowledged = 0;
    }
    const data = unpad(flags, payload);
    const call = this.calls.get(streamId);
    if (!call) return this.checkOpened(streamId);
    const endStream = (flags & FLAG.END_STREAM) !== 0;
    if (!call.responded) return this.streamError(call, H2_ERROR.PROTOCOL_ERROR, 'DATA before the response headers', endStream);
    call.received += data.length;
    if (call.received > this.limits.maxReceiveMessageBytes + 5) {
      this.reset(streamId, H2_ERROR.CANCEL);
      this.settle(call, () => call.reject(new UnaryCallError(STATUS.RESOURCE_EXHAUSTED, `reply larger than the limit of ${this.limits.maxReceiveMessageBytes} bytes`)));
      return;
    }
    call.chunks.push(data);
    if (endStream) this.endStream(call);
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw protocolError('SETTINGS on a stream');
    if (flags & FLAG.ACK) {
      if (payload.length !== 0) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'a SETTINGS acknowledgement with a payload');
      return;
    }
    if (payload.length % 6 !== 0) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `SETTINGS of ${payload.length} octets, not a multiple of 6`);
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      switch (id) {
        case SETTING.ENABLE_PUSH:
          if (value !== 0) throw protocolError(`SETTINGS_ENABLE_PUSH ${value} from a server`);
          break;
        case SETTING.INITIAL_WINDOW_SIZE: {
          if (value > MAX_WINDOW) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1`);
          // Open streams' windows move by the difference, below zero too (RFC 9113 §6.9.2).
          const delta = value - this.peerInitialWindow;
          for (const call of this.calls.values()) {
            call.window += delta;
            if (call.window > MAX_WINDOW) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} takes stream ${call.streamId}'s window above 2^31-1`);
          }
          this.peerInitialWindow = value;
          break;
        }
        case SETTING.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_FRAME_SIZE_LIMIT) throw protocolError(`SETTINGS_MAX_FRAME_SIZE ${value} outside ${DEFAULT_MAX_FRAME_SIZE}..${MAX_FRAME_SIZE_LIMIT}`);
          this.peerMaxFrame = value;
          break;
        case SETTING.MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = value;
          break;
        case SETTING.HEADER_TABLE_SIZE:
          if (value < this.encoderTableSize) {
            this.encoderTableSize = 0;
            this.tableSizeUpdate = true;
          }
          break;
        default:
          break; // header list size (our header blocks are small), unknown settings
      }
    }
    if (this.socket.writable) this.socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0)));
    this.sendBlocked();
    this.startQueued();
  }

  private onGoAway(payload: Buffer): void {
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    const debug = payload.length > 8 ? `: ${payload.subarray(8, 8 + 200).toString('utf8')}` : '';
    this.goingAway = true;
    // Streams above the last one the server processed never reached it (RFC 9113 §6.8), nor did queued calls.
    const unsent = new UnaryCallError(STATUS.UNAVAILABLE, `the server is going away (HTTP/2 error code ${code}${debug})`, { unprocessed: true });
    for (const item of this.queued.splice(0)) this.finish(item.call, () => item.call.reject(unsent));
    for (const call of [...this.calls.values()]) if (call.streamId > last) this.settle(call, () => call.reject(unsent));
    this.endIfIdle();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${payload.length} octets`);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw protocolError('a connection WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'a WINDOW_UPDATE takes the connection window above 2^31-1');
    } else {
      const call = this.calls.get(streamId);
      if (!call) return this.checkOpened(streamId);
      if (increment === 0) return this.streamError(call, H2_ERROR.PROTOCOL_ERROR, 'a stream WINDOW_UPDATE of 0', false);
      call.window += increment;
      if (call.window > MAX_WINDOW) return this.streamError(call, H2_ERROR.FLOW_CONTROL_ERROR, 'a WINDOW_UPDATE takes the stream window above 2^31-1', false);
    }
    this.sendBlocked();
  }

  /** Every block is decoded, in order, whatever its stream: the peer's dynamic table depends on it. */
  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const fields = this.decoder.decode(block);
    const call = this.calls.get(streamId);
    if (!call) return this.checkOpened(streamId);
    const headers: Record<string, string> = {};
    for (const { name, value } of fields) headers[name] = value;
    if (call.responded) {
      // The trailers: the one header block after the response headers, and it ends the stream.
      if (!endStream) return this.streamError(call, H2_ERROR.PROTOCOL_ERROR, 'a header block in the middle of the reply', false);
      call.status = headers;
      return this.endStream(call);
    }
    const status = headers[':status'];
    // Informational (1xx) responses come before the final one (RFC 9113 §8.1).
    if (status !== undefined && status.length === 3 && status.charCodeAt(0) === 0x31) {
      if (endStream) this.streamError(call, H2_ERROR.PROTOCOL_ERROR, `informational HTTP status ${status} ends the stream`, true);
      return;
    }
    call.responded = true;
    // A trailers-only reply: its grpc-status decides, whatever the HTTP status says.
    if (endStream && headers['grpc-status'] !== undefined) {
      call.status = headers;
      return this.endStream(call);
    }
    const notGrpc = nonGrpcReply(headers);
    if (notGrpc) {
      if (!endStream || !call.requestSent) this.reset(streamId, H2_ERROR.CANCEL);
      return this.settle(call, () => call.reject(notGrpc));
    }
    if (endStream) {
      call.status = headers;
      this.endStream(call);
    }
  }

  /** The server ended the stream: the call settles with what the reply says. */
  private endStream(call: Call): void {
    // Ended before the request went out in full: end our side too (gRPC's early server closure).
    if (!call.requestSent) this.reset(call.streamId, H2_ERROR.NO_ERROR);
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

function protocolError(message: string): H2ConnectionError {
  return new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, message);
}
