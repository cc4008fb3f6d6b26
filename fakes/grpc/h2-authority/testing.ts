/**
 * Test support for the HTTP/2 filter and the HPACK codec: frame building and parsing, and the exact
 * bytes Node's own HTTP/2 client (nghttp2: Huffman strings, dynamic-table references) sends.
 */
import http2 from 'node:http2';
import { connect } from 'node:net';
import { Duplex } from 'node:stream';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME = { DATA: 0x0, HEADERS: 0x1, SETTINGS: 0x4, PING: 0x6, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
export const FLAG = { ACK: 0x1, END_STREAM: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

export function frame(type: number, flags: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId, 5);
  return Buffer.concat([head, payload]);
}

/** Splits client bytes (starting with the preface) into frames; throws on a truncated frame. */
export function parseFrames(bytes: Buffer): Frame[] {
  if (!bytes.subarray(0, PREFACE.length).equals(PREFACE)) throw new Error('bytes do not start with the HTTP/2 client preface');
  const frames: Frame[] = [];
  let at = PREFACE.length;
  while (at < bytes.length) {
    if (bytes.length - at < 9) throw new Error(`truncated frame header at ${at}`);
    const length = bytes.readUIntBE(at, 3);
    if (bytes.length - at < 9 + length) throw new Error(`truncated frame at ${at}`);
    frames.push({ type: bytes[at + 3]!, flags: bytes[at + 4]!, streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** The header block fragments of each HEADERS(+CONTINUATION) sequence, joined, in order. */
export function headerBlocks(frames: readonly Frame[]): { streamId: number; flags: number; block: Buffer }[] {
  const blocks: { streamId: number; flags: number; block: Buffer }[] = [];
  for (const f of frames) {
    if (f.type === FRAME.HEADERS) {
      let start = 0;
      let pad = 0;
      if (f.flags & FLAG.PADDED) {
        pad = f.payload[0]!;
        start = 1;
      }
      if (f.flags & FLAG.PRIORITY) start += 5;
      blocks.push({ streamId: f.streamId, flags: f.flags, block: f.payload.subarray(start, f.payload.length - pad) });
    } else if (f.type === FRAME.CONTINUATION) {
      const last = blocks[blocks.length - 1]!;
      last.block = Buffer.concat([last.block, f.payload]);
    }
  }
  return blocks;
}

/** What Node's HTTP/2 client writes for these requests (sent in order on one connection), with no server answering. */
export async function nodeClientBytes(requests: readonly http2.OutgoingHttpHeaders[]): Promise<Buffer> {
  const written: Buffer[] = [];
  const wire = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  const session = http2.connect('http://localhost', { createConnection: () => wire });
  session.on('error', () => {});
  const ended = requests.map(
    (headers) =>
      new Promise<void>((resolve) => {
        const stream = session.request(headers);
        stream.on('error', () => {});
        stream.end(Buffer.from([0, 0, 0, 0, 0]), resolve);
      }),
  );
  await Promise.all(ended);
  await new Promise((resolve) => setImmediate(resolve));
  session.destroy();
  return Buffer.concat(written);
}

export interface RawGrpcReply {
  readonly httpStatus: number | undefined;
  readonly grpcStatus: string | undefined;
  /** The response message, without gRPC's 5-octet length prefix. */
  readonly message: Buffer;
  /** RST_STREAM code the stream closed with (0 for a normal end). */
  readonly rstCode: number;
}

/**
 * One unary gRPC call made with Node's HTTP/2 client over a unix socket, with the `:authority` the
 * caller chooses (grpc-js's own client cannot be made to send a socket path there).
 */
export async function rawGrpcCall(socketPath: string, path: string, authority: string, message: Uint8Array): Promise<RawGrpcReply> {
  const session = http2.connect('http://localhost', { createConnection: () => connect(socketPath) });
  session.on('error', () => {});
  try {
    return await new Promise<RawGrpcReply>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': path, ':authority': authority, 'content-type': 'application/grpc', te: 'trailers' });
      let httpStatus: number | undefined;
      let grpcStatus: string | undefined;
      const body: Buffer[] = [];
      stream.on('response', (h) => {
        httpStatus = h[':status'];
        grpcStatus ??= h['grpc-status'] as string | undefined;
      });
      stream.on('trailers', (t) => (grpcStatus = t['grpc-status'] as string | undefined));
      stream.on('data', (chunk: Buffer) => body.push(chunk));
      stream.on('error', () => {});
      stream.on('close', () => resolve({ httpStatus, grpcStatus, message: Buffer.concat(body).subarray(5), rstCode: stream.rstCode ?? 0 }));
      const prefix = Buffer.alloc(5);
      prefix.writeUInt32BE(message.length, 1);
      stream.end(Buffer.concat([prefix, message]));
    });
  } finally {
    session.close();
  }
}
