import { HpackDecoder, type HeaderField } from '../../../agent/runtime/h2/hpack/decoder.js';
import { encodeHeaderBlock } from '../../../agent/runtime/h2/hpack/encoder.js';
import { isAcceptedAuthority, REPLACEMENT_AUTHORITY } from './authority.js';

const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER_LENGTH = 9;
const HEADERS = 0x1;
const SETTINGS = 0x4;
const CONTINUATION = 0x9;
const ACK = 0x1;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
/** Every HTTP/2 peer accepts frames this large; the fakes never advertise more, so no client sends more. */
const MAX_FRAME_SIZE = 16_384;
/** A header block (all its frames) above this ends the connection: no gRPC client sends one. */
const MAX_HEADER_BLOCK = 256 * 1024;

/** Raised when a rewriting connection's bytes are not HTTP/2 that can be rewritten: the connection must close. */
export class H2FilterError extends Error {
  override readonly name = 'H2FilterError';
}

/**
 * - `inspecting`: until the first header block is complete, header frames are held back and decoded;
 * - `passthrough`: that block's `:authority` (and `host`) was acceptable, every byte passes untouched;
 * - `rewriting`: it was not, so every header block is decoded and sent on re-encoded, with `:authority`
 *   (and `host`) replaced.
 */
export type FilterMode = 'inspecting' | 'passthrough' | 'rewriting';

interface OpenBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  /** The 5 priority octets of the HEADERS frame, kept when rewriting. */
  readonly priority: Buffer | null;
  readonly fragments: Buffer[];
  /** The frames exactly as received, in case they go on unchanged. */
  readonly frames: Buffer[];
  size: number;
}

/**
 * The client-to-server half of an HTTP/2 connection, made acceptable to Node's HTTP/2 server: Node
 * (nghttp2) resets any stream whose `:authority` holds a character such as '/', and crictl and
 * kubelets before 1.31 (grpc-go) send a unix socket's path there. This filter decides on
 * the first header block: a connection that sends an acceptable authority is passed through with no
 * further work; one that does not gets every header block re-encoded with `:authority: localhost`.
 * Pure: bytes in, bytes out, no I/O.
 */
export class AuthorityFilter {
  mode: FilterMode = 'inspecting';
  /** The first authority value that was replaced, if any. */
  replacedAuthority: string | null = null;
  /**
   * Whether the client's acknowledgement of a SETTINGS frame sent ahead of the real server's (see
   * unix-listener.ts) is still to come; it is taken out of the stream, since the server never sent it.
   */
  ackPending: boolean;
  private prefaceAt = 0;
  /** Whether the frame after the preface (which must be the client's SETTINGS) has been seen. */
  private firstFrameSeen = false;
  /** Payload octets of a passed-through frame not seen yet. */
  private forwardLeft = 0;
  /** The start of a frame whose rest has not arrived. */
  private partial: Buffer | null = null;
  private block: OpenBlock | null = null;
  private readonly decoder = new HpackDecoder();

  constructor(options: { dropFirstSettingsAck?: boolean } = {}) {
    this.ackPending = options.dropFirstSettingsAck ?? false;
  }

  /** Nothing left to inspect or take out: every further byte passes unchanged. */
  get settled(): boolean {
    return this.mode === 'passthrough' && !this.ackPending;
  }

  /**
   * Takes the next client bytes; returns what to send to the server, in order. Throws H2FilterError
   * when a rewriting connection sends something that cannot be rewritten. While still inspecting,
   * bytes it cannot make sense of go on unchanged and the filter steps aside, so the server answers
   * them as it would without the filter.
   */
  push(chunk: Buffer): Buffer[] {
    if (this.settled) return [chunk];
    const out: Buffer[] = [];
    let data = chunk;
    if (this.prefaceAt < CLIENT_PREFACE.length) {
      const n = Math.min(CLIENT_PREFACE.length - this.prefaceAt, data.length);
      const piece = data.subarray(0, n);
      // Not HTTP/2: nothing to inspect, the server answers it.
      if (!piece.equals(CLIENT_PREFACE.subarray(this.prefaceAt, this.prefaceAt + n))) return this.stepAside(out, data, 'not an HTTP/2 client preface');
      out.push(piece);
      this.prefaceAt += n;
      data = data.subarray(n);
    }
    if (this.partial) {
      data = Buffer.concat([this.partial, data]);
      this.partial = null;
    }
    let at = 0;
    while (at < data.length) {
      if (this.forwardLeft > 0) {
        const n = Math.min(this.forwardLeft, data.length - at);
        out.push(data.subarray(at, at + n));
        at += n;
        this.forwardLeft -= n;
        continue;
      }
      if (data.length - at < FRAME_HEADER_LENGTH) break;
      const length = data.readUIntBE(at, 3);
      const type = data[at + 3]!;
      if (!this.firstFrameSeen) {
        this.firstFrameSeen = true;
        if (type !== SETTINGS) return this.stepAside(out, data.subarray(at), 'the client preface does not go on with SETTINGS');
      }
      if (this.ackPending && type === SETTINGS && data[at + 4]! & ACK && length === 0) {
        this.ackPending = false;
        at += FRAME_HEADER_LENGTH;
        if (this.settled) {
          if (at < data.length) out.push(data.subarray(at));
          return out;
        }
        continue;
      }
      if (this.mode === 'passthrough' || (this.block === null && type !== HEADERS && type !== CONTINUATION)) {
        // Any other frame (any frame at all once passing through) goes on as it arrives, payload streamed.
        out.push(data.subarray(at, at + FRAME_HEADER_LENGTH));
        at += FRAME_HEADER_LENGTH;
        this.forwardLeft = length;
        continue;
      }
      const problem = this.frameProblem(type, length);
      if (problem) return this.stepAside(out, data.subarray(at), problem);
      if (data.length - at < FRAME_HEADER_LENGTH + length) break;
      const frame = data.subarray(at, at + FRAME_HEADER_LENGTH + length);
      let sent: Buffer | null;
      try {
        sent = this.headerFrame(frame);
      } catch (err) {
        if (!(err instanceof H2FilterError)) throw err;
        // The frame may already be among the held-back ones; it must go on once.
        const held = this.block?.frames.at(-1) === frame;
        return this.stepAside(out, data.subarray(held ? at + frame.length : at), err.message);
      }
      at += frame.length;
      if (sent) out.push(sent);
      if (this.settled) {
        if (at < data.length) out.push(data.subarray(at));
        return out;
      }
    }
    // Copied, so a large chunk is not kept alive for its last few octets.
    if (at < data.length) this.partial = Buffer.from(data.subarray(at));
    return out;
  }

  /** Checks a header-block frame from its frame header alone (before its payload is buffered). */
  private frameProblem(type: number, length: number): string | null {
    if (this.block !== null && type !== CONTINUATION) return `frame of type ${type} inside the header block of stream ${this.block.streamId}`;
    if (this.block === null && type === CONTINUATION) return 'CONTINUATION frame without a HEADERS frame';
    if (length > MAX_FRAME_SIZE) return `header frame of ${length} octets exceeds the maximum frame size ${MAX_FRAME_SIZE}`;
    return null;
  }

  /** A whole HEADERS or CONTINUATION frame; returns what to send once its block is complete. */
  private headerFrame(frame: Buffer): Buffer | null {
    const flags = frame[4]!;
    const streamId = frame.readUInt32BE(5) & 0x7fffffff;
    const payload = frame.subarray(FRAME_HEADER_LENGTH);
    let block = this.block;
    if (block === null) {
      if (streamId === 0) throw new H2FilterError('HEADERS frame on stream 0');
      let start = 0;
      let padLength = 0;
      if (flags & PADDED) {
        if (payload.length < 1) throw new H2FilterError('PADDED HEADERS frame without a pad length');
        padLength = payload[0]!;
        start = 1;
      }
      const priority = flags & PRIORITY ? payload.subarray(start, start + 5) : null;
      if (priority) start += 5;
      if (start + padLength > payload.length) throw new H2FilterError('HEADERS frame padding exceeds its payload');
      block = { streamId, endStream: (flags & END_STREAM) !== 0, priority, fragments: [payload.subarray(start, payload.length - padLength)], frames: [frame], size: 0 };
      this.block = block;
    } else {
      if (streamId !== block.streamId) throw new H2FilterError(`CONTINUATION for stream ${streamId} inside the header block of stream ${block.streamId}`);
      block.fragments.push(payload);
      block.frames.push(frame);
    }
    block.size += payload.length;
    if (block.size > MAX_HEADER_BLOCK) throw new H2FilterError(`header block exceeds ${MAX_HEADER_BLOCK} octets`);
    return flags & END_HEADERS ? this.completeBlock(block) : null;
  }

  private completeBlock(block: OpenBlock): Buffer {
    let fields: HeaderField[];
    try {
      fields = this.decoder.decode(block.fragments.length === 1 ? block.fragments[0]! : Buffer.concat(block.fragments));
    } catch (err) {
      throw new H2FilterError(`undecodable header block on stream ${block.streamId}: ${(err as Error).message}`);
    }
    this.block = null;
    const unacceptable = (f: HeaderField): boolean => (f.name === ':authority' || f.name === 'host') && !isAcceptedAuthority(f.value);
    if (this.mode === 'inspecting') {
      const bad = fields.find(unacceptable);
      if (!bad) {
        this.mode = 'passthrough';
        return block.frames.length === 1 ? block.frames[0]! : Buffer.concat(block.frames);
      }
      this.mode = 'rewriting';
      this.replacedAuthority = bad.value;
    }
    const rewritten = fields.map((f) => (unacceptable(f) ? { ...f, value: REPLACEMENT_AUTHORITY } : f));
    return headerFrames(block, encodeHeaderBlock(rewritten));
  }

  /**
   * Inspecting: sends what was held back and everything after it unchanged, and stops filtering
   * (the server then judges the bytes). Rewriting: the connection cannot go on.
   */
  private stepAside(out: Buffer[], rest: Buffer, problem: string): Buffer[] {
    if (this.mode === 'rewriting') throw new H2FilterError(problem);
    if (this.block) out.push(...this.block.frames);
    this.block = null;
    if (rest.length > 0) out.push(rest);
    this.mode = 'passthrough';
    this.ackPending = false;
    return out;
  }
}

/** A HEADERS frame and as many CONTINUATION frames as the block needs, padding dropped, priority kept. */
function headerFrames(block: OpenBlock, encoded: Buffer): Buffer {
  const frames: Buffer[] = [];
  const priorityLength = block.priority ? block.priority.length : 0;
  let offset = 0;
  let first = true;
  do {
    const room = MAX_FRAME_SIZE - (first ? priorityLength : 0);
    const fragment = encoded.subarray(offset, offset + room);
    offset += fragment.length;
    const last = offset >= encoded.length;
    let flags = last ? END_HEADERS : 0;
    if (first && block.endStream) flags |= END_STREAM;
    if (first && block.priority) flags |= PRIORITY;
    const head = Buffer.alloc(FRAME_HEADER_LENGTH);
    const payloadLength = fragment.length + (first ? priorityLength : 0);
    head.writeUIntBE(payloadLength, 0, 3);
    head[3] = first ? HEADERS : CONTINUATION;
    head[4] = flags;
    head.writeUInt32BE(block.streamId, 5);
    frames.push(head);
    if (first && block.priority) frames.push(block.priority);
    frames.push(fragment);
    first = false;
  } while (offset < encoded.length);
  return Buffer.concat(frames);
}
