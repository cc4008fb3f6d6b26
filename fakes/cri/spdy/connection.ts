/**
 * The server side of one SPDY/3.1 connection after the 101 answer, as the kubelet streaming package's
 * peer (moby/spdystream) behaves: every stream the client opens is answered with an empty SYN_REPLY,
 * PING is echoed, GOAWAY or a malformed frame ends the connection. What the streams mean is the
 * caller's (remote command or port-forward); it sees them through the events below.
 */
import type { Duplex } from 'node:stream';
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  GOAWAY,
  HeaderDeflater,
  HeaderInflater,
  PING,
  RST_STREAM,
  rstStreamFrame,
  SYN_REPLY,
  SYN_STREAM,
  type Frame,
} from './frames.js';

/** RST_STREAM status spdystream sends when it resets a stream it is done with. */
export const RST_CANCEL = 5;
/** A data frame's length field is 24 bits. */
const MAX_DATA = 0xffffff;

export interface SpdyConnectionEvents {
  /** A stream the client opened (already answered); `fin` when it opened it half-closed. */
  stream(id: number, headers: ReadonlyMap<string, readonly string[]>, fin: boolean): void;
  /** Bytes the client wrote on a stream; `fin` when this frame half-closed it. */
  data(id: number, bytes: Buffer, fin: boolean): void;
  /** The client reset a stream. */
  reset(id: number): void;
  /** The connection is gone (either side ended it); called once. */
  closed(): void;
}

export class SpdyServerConnection {
  private readonly reader = new FrameReader();
  private readonly inflater = new HeaderInflater();
  private readonly deflater = new HeaderDeflater();
  private readonly finished = new Set<number>();
  private lastStreamId = 0;
  private ended = false;

  constructor(
    private readonly conn: Duplex,
    private readonly events: SpdyConnectionEvents,
  ) {
    conn.on('data', (chunk: Buffer) => this.receive(chunk));
    conn.on('error', () => this.destroy());
    // The HTTP server's sockets allow half-open connections; a client's FIN ends the connection, as a
    // read error does in spdystream.
    conn.once('end', () => this.destroy());
    conn.once('close', () => this.destroy());
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Writes bytes on a stream, split into frames the length field can carry. */
  write(id: number, bytes: Buffer): void {
    for (let at = 0; at < bytes.length; at += MAX_DATA) this.send(dataFrame(id, bytes.subarray(at, at + MAX_DATA)));
  }

  /** Half-closes the server's side of a stream (an empty data frame with FIN), once. */
  finish(id: number): void {
    if (this.finished.has(id)) return;
    this.finished.add(id);
    this.send(dataFrame(id, Buffer.alloc(0), true));
  }

  reset(id: number, status = RST_CANCEL): void {
    this.send(rstStreamFrame(id, status));
  }

  /** GOAWAY naming the last stream the client opened, then the socket is closed. */
  goAway(): void {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(this.lastStreamId, 0);
    this.send(controlFrame(GOAWAY, 0, payload));
    if (!this.ended) this.conn.end();
  }

  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.conn.destroy();
    this.events.closed();
  }

  private send(frame: Buffer): void {
    if (!this.ended && !this.conn.destroyed && this.conn.writable) this.conn.write(frame);
  }

  /** Bytes from the client: what the socket delivers, and what the HTTP parser read past the upgrade. */
  receive(chunk: Buffer): void {
    if (this.ended || chunk.length === 0) return;
    try {
      for (const frame of this.reader.push(chunk)) this.onFrame(frame);
    } catch {
      // A malformed frame or header block ends this connection only.
      this.destroy();
    }
  }

  private onFrame(frame: Frame): void {
    if (this.ended) return;
    if (!frame.control) {
      this.events.data(frame.streamId, frame.payload, (frame.flags & FLAG_FIN) !== 0);
      return;
    }
    if (frame.type === SYN_STREAM) {
      if (frame.payload.length < 10) throw new Error('short SYN_STREAM');
      const id = frame.payload.readUInt32BE(0) & 0x7fffffff;
      // The header block is inflated even when unused: the zlib stream spans the connection.
      const headers = decodeHeaderBlock(this.inflater.inflate(frame.payload.subarray(10)));
      this.lastStreamId = Math.max(this.lastStreamId, id);
      this.send(controlFrame(SYN_REPLY, 0, Buffer.concat([frame.payload.subarray(0, 4), this.deflater.deflate(encodeHeaderBlock(new Map()))])));
      this.events.stream(id, headers, (frame.flags & FLAG_FIN) !== 0);
    } else if (frame.type === PING) this.send(controlFrame(PING, 0, frame.payload));
    else if (frame.type === RST_STREAM) {
      if (frame.payload.length < 8) throw new Error('short RST_STREAM');
      this.events.reset(frame.payload.readUInt32BE(0) & 0x7fffffff);
    } else if (frame.type === GOAWAY) this.destroy();
    // SETTINGS, WINDOW_UPDATE, HEADERS: spdystream does no flow control; nothing to act on.
  }
}
