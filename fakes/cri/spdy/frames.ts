/**
 * SPDY/3.1 framing, as much as a port-forward server needs (the kubelet streaming package's peer is
 * moby/spdystream): frames read from a byte stream, the few it writes, and header blocks.
 *
 * A frame has an 8-byte head. Control frames: bit 31 set, version 3, type; then flags (8 bits) and
 * length (24). Data frames: a 31-bit stream ID, then flags and length. Header blocks (SYN_STREAM,
 * SYN_REPLY, HEADERS) are a count and length-prefixed name/value pairs, compressed with one zlib
 * stream per direction for the whole connection, preset with the SPDY/3 dictionary.
 */
import { constants, inflateSync } from 'node:zlib';
import { SPDY3_DICTIONARY } from './dictionary.js';

export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;
export const FLAG_FIN = 0x01;
/** RST_STREAM status: the server refuses a stream it cannot use. */
export const RST_PROTOCOL_ERROR = 1;

export type Frame =
  | { readonly control: true; readonly type: number; readonly flags: number; readonly payload: Buffer }
  | { readonly control: false; readonly streamId: number; readonly flags: number; readonly payload: Buffer };

/** Splits a byte stream into frames; bytes of an incomplete frame wait for the rest. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    while (this.pending.length >= 8) {
      const length = this.pending.readUIntBE(5, 3);
      if (this.pending.length < 8 + length) break;
      const flags = this.pending[4]!;
      const payload = this.pending.subarray(8, 8 + length);
      const first = this.pending.readUInt32BE(0);
      if (first & 0x80000000) frames.push({ control: true, type: first & 0xffff, flags, payload });
      else frames.push({ control: false, streamId: first, flags, payload });
      this.pending = this.pending.subarray(8 + length);
    }
    return frames;
  }
}

function head(first: number, flags: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(first >>> 0, 0);
  b[4] = flags;
  b.writeUIntBE(length, 5, 3);
  return b;
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  return Buffer.concat([head((0x80000000 | (3 << 16) | type) >>> 0, flags, payload.length), payload]);
}

export function dataFrame(streamId: number, data: Buffer, fin = false): Buffer {
  return Buffer.concat([head(streamId & 0x7fffffff, fin ? FLAG_FIN : 0, data.length), data]);
}

export function rstStreamFrame(streamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(RST_STREAM, 0, p);
}

export type HeaderBlock = ReadonlyMap<string, readonly string[]>;

/** The uncompressed form of a header block: a count, then each name and its values joined by NUL. */
export function encodeHeaderBlock(headers: HeaderBlock): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(headers.size));
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(values.join('\0'));
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed header block; throws on a truncated one. */
export function decodeHeaderBlock(block: Buffer): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > block.length) throw new Error('truncated SPDY header block');
    const b = block.subarray(at, at + n);
    at += n;
    return b;
  };
  const count = take(4).readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const name = take(take(4).readUInt32BE(0)).toString('latin1');
    const value = take(take(4).readUInt32BE(0)).toString('utf8');
    out.set(name, [...(out.get(name) ?? []), ...value.split('\0')]);
  }
  return out;
}

/**
 * The receiving side's header decompression: one zlib stream across the connection. Each block is
 * inflated together with all before it (the sender sync-flushes per block), keeping what is new:
 * quadratic in the headers of a connection, which a port-forward keeps to two per forwarded connection.
 */
export class HeaderInflater {
  private compressed = Buffer.alloc(0);
  private produced = 0;

  inflate(block: Buffer): Buffer {
    this.compressed = Buffer.concat([this.compressed, block]);
    const all = inflateSync(this.compressed, { dictionary: SPDY3_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    const fresh = all.subarray(this.produced);
    this.produced = all.length;
    return fresh;
  }
}

/**
 * The sending side's header compression, as stored (uncompressed) deflate blocks: a valid zlib stream
 * that any inflater reads, with no dictionary needed. The first block carries the zlib header.
 */
export class HeaderDeflater {
  private started = false;

  deflate(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.started) {
      // CMF 0x78 (deflate, 32 KiB window), FLG 0x01: no preset dictionary, header checksum valid.
      parts.push(Buffer.from([0x78, 0x01]));
      this.started = true;
    }
    let at = 0;
    do {
      const piece = block.subarray(at, at + 0xffff);
      // BFINAL 0, BTYPE 00 (stored), then LEN and its complement.
      const h = Buffer.from([0, 0, 0, 0, 0]);
      h.writeUInt16LE(piece.length, 1);
      h.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(h, piece);
      at += piece.length;
    } while (at < block.length);
    // An empty stored block ends each header block, as a zlib sync flush does: Go's inflater hands out
    // what it has only when it meets one.
    parts.push(Buffer.from([0, 0, 0, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}
