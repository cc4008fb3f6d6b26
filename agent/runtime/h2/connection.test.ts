import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frame } from '../../../fakes/grpc/h2-authority/testing.js';
import { realClock } from '../../clock/index.js';
import { GrpcUnaryChannel } from './channel.js';
import { H2UnaryConnection, type UnaryMethod } from './connection.js';
import { lengthPrefixed } from './grpc-wire.js';
import { HpackDecoder } from './hpack/decoder.js';
import { encodeHeaderBlock } from './hpack/encoder.js';

/*
 * The connection against a hand-written HTTP/2 server on a unix socket: every frame the server sends is
 * built here, so the tests can send what grpc-js and grpc-go servers never do (padding, CONTINUATION,
 * refused streams, a GOAWAY below streams in flight, bad SETTINGS, odd :status values).
 */

// Frame types, flags and error codes written out here (RFC 9113 §6, §7), not taken from the module under test.
const T = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const F = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
const E = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, FLOW_CONTROL_ERROR: 3, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, CANCEL: 8, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11, INADEQUATE_SECURITY: 12 } as const;
const S = { ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 } as const;
// gRPC status codes
const G = { CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, UNAUTHENTICATED: 16 } as const;

interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
  /** A HEADERS frame's decoded fields (the client never splits its header blocks). */
  readonly headers?: Record<string, string>;
}

const u32 = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeUInt32BE(v, 4 * i));
  return b;
};

function settings(...pairs: [number, number][]): Buffer {
  const payload = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(T.SETTINGS, 0, 0, payload);
}

const block = (fields: readonly [string, string][]): Buffer => encodeHeaderBlock(fields.map(([name, value]) => ({ name, value })));
const headers = (streamId: number, fields: readonly [string, string][], flags: number = F.END_HEADERS): Buffer => frame(T.HEADERS, flags, streamId, block(fields));
const RESPONSE: [string, string][] = [
  [':status', '200'],
  ['content-type', 'application/grpc'],
];
const OK: [string, string][] = [['grpc-status', '0']];
const message = (text: string): Buffer => lengthPrefixed(Buffer.from(text));
const data = (streamId: number, bytes: Buffer, flags = 0): Buffer => frame(T.DATA, flags, streamId, bytes);
const reply = (streamId: number, text: string): Buffer[] => [headers(streamId, RESPONSE), data(streamId, message(text)), headers(streamId, OK, F.END_HEADERS | F.END_STREAM)];
/** A literal field with incremental indexing and a new name (RFC 7541 §6.2.1): it enters the decoder's dynamic table. */
const indexed = (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x40, name.length]), Buffer.from(name), Buffer.from([value.length]), Buffer.from(value)]);

const Echo: UnaryMethod<string, string> = {
  path: '/test.Echo/Call',
  requestSerialize: (text) => Buffer.from(text),
  responseDeserialize: (bytes) => bytes.toString(),
};

/** The server end of one connection: parses what the client sends and writes what the test tells it to. */
class Peer {
  readonly frames: Frame[] = [];
  /** Request bodies (without gRPC framing) by stream, once the client ended the stream. */
  readonly requests = new Map<number, string>();
  ended = false;
  onRequest: ((streamId: number, body: string, peer: Peer) => void) | null = null;
  private bytes = Buffer.alloc(0);
  private prefaceSeen = false;
  private readonly decoder = new HpackDecoder();
  private readonly bodies = new Map<number, Buffer[]>();
  private wake: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  send(...frames: Buffer[]): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(frames));
  }

  async waitFor(match: (f: Frame) => boolean, from = 0): Promise<Frame> {
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  async waitForEnd(): Promise<void> {
    while (!this.ended) await new Promise<void>((resolve) => this.wake.push(resolve));
  }

  /** The stream of the n-th request (0-based) once its HEADERS arrived. */
  async request(n: number): Promise<number> {
    for (;;) {
      const streams = this.frames.filter((f) => f.type === T.HEADERS).map((f) => f.streamId);
      if (streams.length > n) return streams[n]!;
      await new Promise<void>((resolve) => this.wake.push(resolve));
    }
  }

  /** Request bytes received on a stream, gRPC prefix included. */
  received(streamId: number): number {
    return this.frames.filter((f) => f.type === T.DATA && f.streamId === streamId).reduce((sum, f) => sum + f.payload.length, 0);
  }

  private notify(): void {
    for (const resolve of this.wake.splice(0)) resolve();
  }

  private onData(chunk: Buffer): void {
    this.bytes = Buffer.concat([this.bytes, chunk]);
    if (!this.prefaceSeen) {
      if (this.bytes.length < 24) return;
      expect(this.bytes.subarray(0, 24).toString('latin1')).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      this.bytes = this.bytes.subarray(24);
      this.prefaceSeen = true;
    }
    while (this.bytes.length >= 9) {
      const length = this.bytes.readUIntBE(0, 3);
      if (this.bytes.length < 9 + length) break;
      const type = this.bytes[3]!;
      const flags = this.bytes[4]!;
      const streamId = this.bytes.readUInt32BE(5) & 0x7fffffff;
      const payload = Buffer.from(this.bytes.subarray(9, 9 + length));
      this.bytes = this.bytes.subarray(9 + length);
      let fields: Record<string, string> | undefined;
      if (type === T.HEADERS) fields = Object.fromEntries(this.decoder.decode(payload).map((f) => [f.name, f.value]));
      this.frames.push(fields ? { type, flags, streamId, payload, headers: fields } : { type, flags, streamId, payload });
      if (type === T.SETTINGS && !(flags & F.ACK)) this.send(frame(T.SETTINGS, F.ACK, 0));
      if (type === T.DATA) {
        const parts = this.bodies.get(streamId) ?? [];
        parts.push(payload);
        this.bodies.set(streamId, parts);
        if (flags & F.END_STREAM) {
          const body = Buffer.concat(parts).subarray(5).toString();
          this.requests.set(streamId, body);
          this.onRequest?.(streamId, body, this);
        }
      }
    }
    this.notify();
  }
}

/** Answers every request with its own body. */
const echo = (streamId: number, body: string, peer: Peer): void => peer.send(...reply(streamId, body));

interface RawServer {
  readonly path: string;
  readonly peers: Peer[];
  nextPeer(): Promise<Peer>;
}

describe('the agent HTTP/2 unary connection against a hand-written server', () => {
  let dir: string;
  let count = 0;
  const servers: Server[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'h2-connection-'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A server whose connections start with `preface` (the server's SETTINGS) and then answer as each test says. */
  async function rawServer(preface: Buffer | null = settings(), onRequest: Peer['onRequest'] = echo): Promise<RawServer> {
    const path = join(dir, `s${count++}.sock`);
    const peers: Peer[] = [];
    const waiting: ((peer: Peer) => void)[] = [];
    const server = createServer((socket) => {
      const peer = new Peer(socket);
      peer.onRequest = onRequest;
      cleanups.push(() => socket.destroy());
      if (preface) socket.write(preface);
      peers.push(peer);
      waiting.shift()?.(peer);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    let taken = 0;
    return {
      path,
      peers,
      nextPeer: () => {
        const index = taken++;
        return peers[index] ? Promise.resolve(peers[index]) : new Promise((resolve) => waiting.push(resolve));
      },
    };
  }

  /** A connection to the server at `path` on `clock`, with its client socket (for tests that watch the socket itself). */
  async function openWithSocket(
    path: string,
    limits: { maxReceiveMessageBytes?: number } = {},
    clock: ConstructorParameters<typeof H2UnaryConnection>[1] = realClock,
  ): Promise<{ connection: H2UnaryConnection; socket: Socket }> {
    const socket = connect(path);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    cleanups.push(() => socket.destroy());
    const connection = new H2UnaryConnection(socket, clock, { maxReceiveMessageBytes: limits.maxReceiveMessageBytes ?? 1 << 20, maxSendMessageBytes: 1 << 20, wireDeadlineMarginMs: 0, userAgent: 'test' });
    return { connection, socket };
  }

  async function open(path: string, limits: { maxReceiveMessageBytes?: number } = {}): Promise<H2UnaryConnection> {
    return (await openWithSocket(path, limits)).connection;
  }

  /** A connection whose server's SETTINGS it has acknowledged (so the server's limits apply to the next call). */
  async function ready(server: RawServer): Promise<[H2UnaryConnection, Peer]> {
    const connection = await open(server.path);
    const peer = await server.nextPeer();
    await peer.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0);
    return [connection, peer];
  }

  function channel(path: string): GrpcUnaryChannel {
    const c = new GrpcUnaryChannel(path, realClock);
    cleanups.push(() => c.close());
    return c;
  }

  const goAwayCode = (f: Frame): number => f.payload.readUInt32BE(4);
  const rstCode = (f: Frame): number => f.payload.readUInt32BE(0);

  describe('frames and settings', () => {
    it('answers a call whose reply uses padding, a PRIORITY block, CONTINUATION frames, and frames of unknown type', async () => {
      const server = await rawServer(settings(), (id, body, peer) => {
        const head = block(RESPONSE);
        const trailers = block([...OK, ['x-note', 'a'.repeat(40)]]);
        // HEADERS with PADDED and PRIORITY: pad length, 5 octets of priority, the block, 3 octets of padding
        const padded = Buffer.concat([Buffer.from([3]), u32(0), Buffer.from([15]), head, Buffer.alloc(3)]);
        peer.send(
          frame(0xfa, 0xff, 0, Buffer.from('ignore me')),
          frame(T.PRIORITY, 0, id, Buffer.concat([u32(0), Buffer.from([7])])),
          frame(T.HEADERS, F.PADDED | F.PRIORITY | F.END_HEADERS, id, padded),
          frame(0xfb, 0, id, Buffer.from('and me')),
          data(id, Buffer.concat([Buffer.from([4]), message(body).subarray(0, 3), Buffer.alloc(4)]), F.PADDED),
          data(id, message(body).subarray(3)),
          frame(T.HEADERS, F.END_STREAM, id, trailers.subarray(0, 10)),
          frame(T.CONTINUATION, 0, id, trailers.subarray(10, 20)),
          frame(T.CONTINUATION, F.END_HEADERS, id, trailers.subarray(20)),
        );
      });
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'padded', { timeoutMs: 3_000 })).resolves.toBe('padded');
      await expect(connection.call(Echo, 'again', { timeoutMs: 3_000 })).resolves.toBe('again');
    });

    it.each([
      ['DATA on stream 0', [data(0, message('x'))], E.PROTOCOL_ERROR],
      ['HEADERS on stream 0', [headers(0, RESPONSE)], E.PROTOCOL_ERROR],
      ['a connection WINDOW_UPDATE of 0', [frame(T.WINDOW_UPDATE, 0, 0, u32(0))], E.PROTOCOL_ERROR],
      ['a connection window above 2^31-1', [frame(T.WINDOW_UPDATE, 0, 0, u32(0x7fffffff))], E.FLOW_CONTROL_ERROR],
      ['an INITIAL_WINDOW_SIZE above 2^31-1', [settings([S.INITIAL_WINDOW_SIZE, 0x80000000])], E.FLOW_CONTROL_ERROR],
      ['a MAX_FRAME_SIZE below 16384', [settings([S.MAX_FRAME_SIZE, 16_383])], E.PROTOCOL_ERROR],
      ['a MAX_FRAME_SIZE above 2^24-1', [settings([S.MAX_FRAME_SIZE, 1 << 24])], E.PROTOCOL_ERROR],
      ['ENABLE_PUSH 1 from a server', [settings([S.ENABLE_PUSH, 1])], E.PROTOCOL_ERROR],
      ['a SETTINGS payload that is not a multiple of 6', [frame(T.SETTINGS, 0, 0, Buffer.alloc(7))], E.FRAME_SIZE_ERROR],
      ['SETTINGS on a stream', [frame(T.SETTINGS, 0, 1, Buffer.alloc(0))], E.PROTOCOL_ERROR],
      ['a PING that is not 8 octets', [frame(T.PING, 0, 0, Buffer.alloc(4))], E.FRAME_SIZE_ERROR],
      ['RST_STREAM on stream 0', [frame(T.RST_STREAM, 0, 0, u32(E.CANCEL))], E.PROTOCOL_ERROR],
      ['a frame larger than the 16384 octets we allow', [frame(0xfa, 0, 0, Buffer.alloc(16_385))], E.FRAME_SIZE_ERROR],
      ['HEADERS on a stream the client never opened', [headers(99, RESPONSE)], E.PROTOCOL_ERROR],
      ['padding as long as the frame', [frame(T.DATA, F.PADDED, 1, Buffer.from([3, 0, 0]))], E.PROTOCOL_ERROR],
      ['a frame between HEADERS and its CONTINUATION', [frame(T.HEADERS, 0, 1, block(RESPONSE)), frame(T.PING, 0, 0, Buffer.alloc(8))], E.PROTOCOL_ERROR],
      ['a table size update above the 4096 octets we allow', [frame(T.HEADERS, F.END_HEADERS, 1, Buffer.from([0x3f, 0xe1, 0x3f]))], E.COMPRESSION_ERROR],
      ['a header block of endless CONTINUATION frames (over 1 MiB)', [frame(T.HEADERS, 0, 1, block(RESPONSE)), ...Array.from({ length: 65 }, () => frame(T.CONTINUATION, 0, 1, Buffer.alloc(16_384)))], E.ENHANCE_YOUR_CALM],
    ])('treats %s as a connection error: the call fails INTERNAL and a GOAWAY with the error code goes out', async (_what, frames, code) => {
      const server = await rawServer(settings(), null);
      const connection = await open(server.path);
      const call = connection.call(Echo, 'x', { timeoutMs: 3_000 });
      const peer = await server.nextPeer();
      await peer.request(0);
      peer.send(...frames);
      await expect(call).rejects.toMatchObject({ code: G.INTERNAL, unprocessed: false });
      expect(goAwayCode(await peer.waitFor((f) => f.type === T.GOAWAY))).toBe(code);
      expect(connection.usable).toBe(false);
    });

    it('treats a first frame other than SETTINGS as a connection error (the server preface)', async () => {
      const server = await rawServer(frame(T.PING, 0, 0, Buffer.alloc(8)), null);
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: G.INTERNAL });
      const peer = await server.nextPeer();
      expect(goAwayCode(await peer.waitFor((f) => f.type === T.GOAWAY))).toBe(E.PROTOCOL_ERROR);
    });

    it('fails only the stream of a stream WINDOW_UPDATE of 0, resetting it PROTOCOL_ERROR; the connection serves on', async () => {
      const server = await rawServer(settings(), null);
      const connection = await open(server.path);
      const call = connection.call(Echo, 'x', { timeoutMs: 3_000 });
      const peer = await server.nextPeer();
      const id = await peer.request(0);
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(0)));
      await expect(call).rejects.toMatchObject({ code: G.INTERNAL });
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM && f.streamId === id))).toBe(E.PROTOCOL_ERROR);
      peer.onRequest = echo;
      await expect(connection.call(Echo, 'next', { timeoutMs: 3_000 })).resolves.toBe('next');
    });
  });

  describe('flow control', () => {
    it('sends no more than the peer allows when it lowers INITIAL_WINDOW_SIZE mid-call (the stream window goes negative)', async () => {
      const [connection, peer] = await ready(await rawServer(settings([S.INITIAL_WINDOW_SIZE, 10])));
      const call = connection.call(Echo, 'z'.repeat(100), { timeoutMs: 3_000 });
      const id = await peer.request(0);
      await expect.poll(() => peer.received(id)).toBe(10);
      // 10 sent against a window of 10; the window drops by 5 to -5
      peer.send(settings([S.INITIAL_WINDOW_SIZE, 5]));
      const acked = peer.frames.length;
      await peer.waitFor((f) => f.type === T.SETTINGS && (f.flags & F.ACK) !== 0, acked);
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(5)), frame(T.PING, 0, 0, Buffer.alloc(8)));
      await peer.waitFor((f) => f.type === T.PING, acked);
      expect(peer.received(id)).toBe(10);
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(1)));
      await expect.poll(() => peer.received(id)).toBe(11);
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(1000)));
      await expect(call).resolves.toBe('z'.repeat(100));
    });

    it('sends a small request while a large one waits for its own stream window', async () => {
      const [connection, peer] = await ready(await rawServer(settings([S.INITIAL_WINDOW_SIZE, 100])));
      const big = connection.call(Echo, 'b'.repeat(1_000), { timeoutMs: 3_000 });
      const small = connection.call(Echo, 'small', { timeoutMs: 3_000 });
      await expect(small).resolves.toBe('small');
      peer.send(frame(T.WINDOW_UPDATE, 0, await peer.request(0), u32(10_000)));
      await expect(big).resolves.toBe('b'.repeat(1_000));
    });

    it('fails only the stream whose window a WINDOW_UPDATE takes above 2^31-1 (FLOW_CONTROL_ERROR)', async () => {
      const [connection, peer] = await ready(await rawServer(settings([S.INITIAL_WINDOW_SIZE, 0]), null));
      const call = connection.call(Echo, 'x', { timeoutMs: 3_000 });
      const id = await peer.request(0);
      // The first opens the window to 2^31-1 and lets the 6-octet request out; the second overflows it.
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(0x7fffffff)), frame(T.WINDOW_UPDATE, 0, id, u32(0x7fffffff)));
      await expect(call).rejects.toMatchObject({ code: G.INTERNAL });
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM && f.streamId === id))).toBe(E.FLOW_CONTROL_ERROR);
      expect(connection.usable).toBe(true);
    });

    it('advertises a 1 GiB window for the connection and for each stream, so a reply never waits for a WINDOW_UPDATE', async () => {
      const server = await rawServer();
      await open(server.path);
      const peer = await server.nextPeer();
      const first = await peer.waitFor((f) => f.type === T.SETTINGS);
      const advertised = new Map<number, number>();
      for (let i = 0; i < first.payload.length; i += 6) advertised.set(first.payload.readUInt16BE(i), first.payload.readUInt32BE(i + 2));
      expect(advertised.get(S.INITIAL_WINDOW_SIZE)).toBe(1 << 30);
      expect(advertised.get(S.ENABLE_PUSH)).toBe(0);
      const update = await peer.waitFor((f) => f.type === T.WINDOW_UPDATE && f.streamId === 0);
      expect(65_535 + update.payload.readUInt32BE(0)).toBe(1 << 30);
    });
  });

  describe('header blocks', () => {
    it('starts its next header block with a table size update when the server lowers SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §4.2)', async () => {
      const [connection, peer] = await ready(await rawServer(settings([1, 0])));
      await expect(connection.call(Echo, 'first', { timeoutMs: 3_000 })).resolves.toBe('first');
      await expect(connection.call(Echo, 'second', { timeoutMs: 3_000 })).resolves.toBe('second');
      const blocks = peer.frames.filter((f) => f.type === T.HEADERS).map((f) => f.payload[0]);
      expect(blocks[0]).toBe(0x20);
      expect(blocks[1]).not.toBe(0x20);
    });

    it('decodes the header blocks of streams it already forgot, so the dynamic table stays in step', async () => {
      const server = await rawServer(settings(), null);
      const connection = await open(server.path);
      // The first call ends on its deadline before its reply comes.
      await expect(connection.call(Echo, 'late', { timeoutMs: 20 })).rejects.toMatchObject({ code: G.DEADLINE_EXCEEDED });
      const peer = await server.nextPeer();
      const late = await peer.request(0);
      await peer.waitFor((f) => f.type === T.RST_STREAM && f.streamId === late);
      const second = connection.call(Echo, 'second', { timeoutMs: 3_000 });
      const id = await peer.request(1);
      // The forgotten stream's reply puts "x-trace: 1234" (62) into the table, its trailers split over a CONTINUATION
      // put "grpc-status: 0" on top (62, moving the first to 63); the next reply refers to both by index only.
      const lateTrailers = indexed('grpc-status', '0');
      peer.send(
        frame(T.HEADERS, F.END_HEADERS, late, Buffer.concat([block(RESPONSE), indexed('x-trace', '1234')])),
        frame(T.HEADERS, F.END_STREAM, late, lateTrailers.subarray(0, 4)),
        frame(T.CONTINUATION, F.END_HEADERS, late, lateTrailers.subarray(4)),
        frame(T.HEADERS, F.END_HEADERS, id, Buffer.concat([block(RESPONSE), Buffer.from([0x80 | 63])])),
        data(id, message('second')),
        frame(T.HEADERS, F.END_HEADERS | F.END_STREAM, id, Buffer.from([0x80 | 62])),
      );
      await expect(second).resolves.toBe('second');
    });

    it('fails a reply whose trailers do not end the stream (INTERNAL), resetting the stream', async () => {
      const server = await rawServer(settings(), (id, _body, peer) => peer.send(headers(id, RESPONSE), data(id, message('x')), headers(id, OK)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: G.INTERNAL });
      const peer = await server.nextPeer();
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM))).toBe(E.PROTOCOL_ERROR);
    });

    it('fails a reply whose DATA comes before its response headers (INTERNAL), resetting the stream', async () => {
      const server = await rawServer(settings(), (id, body, peer) => peer.send(data(id, message(body)), headers(id, [...RESPONSE, ...OK], F.END_HEADERS | F.END_STREAM)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: G.INTERNAL, details: expect.stringContaining('before the response headers') });
      const peer = await server.nextPeer();
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM))).toBe(E.PROTOCOL_ERROR);
    });

    it('skips informational (1xx) response headers and reads the reply after them', async () => {
      const server = await rawServer(settings(), (id, body, peer) => peer.send(headers(id, [[':status', '100']]), ...reply(id, body)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'after 100', { timeoutMs: 3_000 })).resolves.toBe('after 100');
    });
  });

  describe('replies that are not gRPC', () => {
    it.each([
      ['400', G.INTERNAL],
      ['401', G.UNAUTHENTICATED],
      ['403', G.PERMISSION_DENIED],
      ['404', G.UNIMPLEMENTED],
      ['429', G.UNAVAILABLE],
      ['502', G.UNAVAILABLE],
      ['503', G.UNAVAILABLE],
      ['504', G.UNAVAILABLE],
      ['500', G.UNKNOWN],
      ['302', G.UNKNOWN],
    ])('maps HTTP status %s to gRPC code %i, naming it, and resets a stream the server left open', async (status, code) => {
      const server = await rawServer(settings(), (id, _body, peer) => peer.send(headers(id, [[':status', status], ['content-type', 'text/html']]), data(id, Buffer.from('<html>'))));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code, details: expect.stringContaining(status) });
      const peer = await server.nextPeer();
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM))).toBe(E.CANCEL);
    });

    it('takes the grpc-status of a trailers-only reply whatever its HTTP status', async () => {
      const server = await rawServer(settings(), (id, _body, peer) => peer.send(headers(id, [[':status', '503'], ['content-type', 'application/grpc'], ['grpc-status', '5'], ['grpc-message', 'gone']], F.END_HEADERS | F.END_STREAM)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: 5, details: 'gone' });
    });

    it.each([
      ['text/html', [[':status', '200'], ['content-type', 'text/html']]],
      ['application/grpcx', [[':status', '200'], ['content-type', 'application/grpcx']]],
      ['none', [[':status', '200']]],
    ] as [string, [string, string][]][])('fails a 200 reply with content-type %s UNKNOWN', async (_type, fields) => {
      const server = await rawServer(settings(), (id, body, peer) => peer.send(headers(id, fields), data(id, message(body)), headers(id, OK, F.END_HEADERS | F.END_STREAM)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: G.UNKNOWN, details: expect.stringContaining('content-type') });
    });

    it('accepts application/grpc+proto and application/grpc;charset as gRPC content types', async () => {
      const types = ['application/grpc+proto', 'application/grpc; charset=utf-8'];
      const server = await rawServer(settings(), (id, body, peer) => peer.send(headers(id, [[':status', '200'], ['content-type', types[(id - 1) / 2]!]]), data(id, message(body)), headers(id, OK, F.END_HEADERS | F.END_STREAM)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'proto', { timeoutMs: 3_000 })).resolves.toBe('proto');
      await expect(connection.call(Echo, 'charset', { timeoutMs: 3_000 })).resolves.toBe('charset');
    });

    it('fails trailers without grpc-status UNKNOWN', async () => {
      const server = await rawServer(settings(), (id, body, peer) => peer.send(headers(id, RESPONSE), data(id, message(body)), headers(id, [['x-other', '1']], F.END_HEADERS | F.END_STREAM)));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: G.UNKNOWN });
    });
  });

  describe('stream ends', () => {
    it.each([
      [E.CANCEL, G.CANCELLED],
      [E.ENHANCE_YOUR_CALM, G.RESOURCE_EXHAUSTED],
      [E.INADEQUATE_SECURITY, G.PERMISSION_DENIED],
      [E.NO_ERROR, G.INTERNAL],
      [E.PROTOCOL_ERROR, G.INTERNAL],
      [E.INTERNAL_ERROR, G.INTERNAL],
      [E.FLOW_CONTROL_ERROR, G.INTERNAL],
      [0xabc, G.INTERNAL],
    ])('maps RST_STREAM code %i to gRPC code %i (gRPC PROTOCOL-HTTP2 "Errors")', async (h2, grpc) => {
      const server = await rawServer(settings(), (id, _body, peer) => peer.send(frame(T.RST_STREAM, 0, id, u32(h2))));
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'x', { timeoutMs: 3_000 })).rejects.toMatchObject({ code: grpc, unprocessed: false, details: expect.stringContaining(String(h2)) });
    });

    it('reports a server CANCEL that comes after the deadline as DEADLINE_EXCEEDED, before its own timer fired', async () => {
      // A clock whose time the test sets and whose timers never fire: the reset must win over the local timer.
      let now = 0;
      const held = { setTimeout: () => ({ cancel: () => {} }), monotonic: () => now };
      const server = await rawServer(settings(), null);
      const { connection } = await openWithSocket(server.path, {}, held);
      const early = connection.call(Echo, 'early', { timeoutMs: 100 });
      const late = connection.call(Echo, 'late', { timeoutMs: 100 });
      const peer = await server.nextPeer();
      peer.send(frame(T.RST_STREAM, 0, await peer.request(0), u32(E.CANCEL)));
      await expect(early).rejects.toMatchObject({ code: G.CANCELLED });
      now = 100;
      peer.send(frame(T.RST_STREAM, 0, await peer.request(1), u32(E.CANCEL)));
      await expect(late).rejects.toMatchObject({ code: G.DEADLINE_EXCEEDED, localDeadline: true });
    });

    it('sends a refused stream again, transparently', async () => {
      let attempts = 0;
      const server = await rawServer(settings(), (id, body, peer) => (attempts++ === 0 ? peer.send(frame(T.RST_STREAM, 0, id, u32(E.REFUSED_STREAM))) : echo(id, body, peer)));
      await expect(channel(server.path).call(Echo, 'refused once', { timeoutMs: 3_000 })).resolves.toBe('refused once');
      expect(attempts).toBe(2);
    });

    it('resets a stream NO_ERROR when the reply ends it before the request is sent (gRPC "Early Server Closure")', async () => {
      const [connection, peer] = await ready(await rawServer(settings([S.INITIAL_WINDOW_SIZE, 10]), null));
      const call = connection.call(Echo, 'y'.repeat(100), { timeoutMs: 3_000 });
      const id = await peer.request(0);
      await expect.poll(() => peer.received(id)).toBe(10);
      peer.send(headers(id, [...RESPONSE, ['grpc-status', '3'], ['grpc-message', 'too big']], F.END_HEADERS | F.END_STREAM));
      await expect(call).rejects.toMatchObject({ code: 3, details: 'too big' });
      expect(rstCode(await peer.waitFor((f) => f.type === T.RST_STREAM && f.streamId === id))).toBe(E.NO_ERROR);
      // The rest of the request is not sent when the window opens.
      peer.send(frame(T.WINDOW_UPDATE, 0, id, u32(1000)), frame(T.PING, 0, 0, Buffer.alloc(8)));
      const pings = peer.frames.length;
      await peer.waitFor((f) => f.type === T.PING, pings);
      expect(peer.received(id)).toBe(10);
    });

    it('sends no RST_STREAM for a stream both sides ended', async () => {
      const server = await rawServer();
      const connection = await open(server.path);
      await expect(connection.call(Echo, 'one', { timeoutMs: 3_000 })).resolves.toBe('one');
      const peer = await server.nextPeer();
      peer.send(frame(T.PING, 0, 0, Buffer.alloc(8)));
      await peer.waitFor((f) => f.type === T.PING);
      expect(peer.frames.filter((f) => f.type === T.RST_STREAM)).toEqual([]);
    });
  });

  describe('GOAWAY and the end of a connection', () => {
    it('answers calls at or below a GOAWAY last-stream-id, sends those above again on a new connection, then ends the old one', async () => {
      const server = await rawServer(settings(), null);
      const c = channel(server.path);
      const first = c.call(Echo, 'first', { timeoutMs: 3_000 });
      const second = c.call(Echo, 'second', { timeoutMs: 3_000 });
      const old = await server.nextPeer();
      const [one, three] = [await old.request(0), await old.request(1)];
      const fresh = server.nextPeer().then((peer) => ((peer.onRequest = echo), peer));
      old.send(frame(T.GOAWAY, 0, 0, Buffer.concat([u32(one, E.NO_ERROR), Buffer.from('draining')])));
      await expect(second).resolves.toBe('second');
      expect((await fresh).requests.get(1)).toBe('second');
      expect(old.ended).toBe(false);
      old.send(...reply(one, 'first'));
      await expect(first).resolves.toBe('first');
      await old.waitForEnd();
      expect(old.requests.has(three)).toBe(true);
    });

    it('names the GOAWAY error code and debug data on the calls it ends', async () => {
      const server = await rawServer(settings(), null);
      const connection = await open(server.path);
      const call = connection.call(Echo, 'x', { timeoutMs: 3_000 });
      const peer = await server.nextPeer();
      await peer.request(0);
      peer.send(frame(T.GOAWAY, 0, 0, Buffer.concat([u32(0, E.ENHANCE_YOUR_CALM), Buffer.from('too_many_pings')])));
      await expect(call).rejects.toMatchObject({ code: G.UNAVAILABLE, unprocessed: true, details: expect.stringMatching(/11.*too_many_pings/) });
    });

    it('starts queued calls after close() and ends the connection once they are answered', async () => {
      const server = await rawServer(settings([S.MAX_CONCURRENT_STREAMS, 1]));
      const c = channel(server.path);
      // Answered after the server's SETTINGS, so its limit of one stream applies from here on.
      await expect(c.call(Echo, 'warm', { timeoutMs: 3_000 })).resolves.toBe('warm');
      const peer = await server.nextPeer();
      peer.onRequest = null;
      const first = c.call(Echo, 'first', { timeoutMs: 3_000 });
      const queued = c.call(Echo, 'queued', { timeoutMs: 3_000 });
      const id = await peer.request(1);
      c.close();
      peer.onRequest = echo;
      peer.send(...reply(id, 'first'));
      await expect(first).resolves.toBe('first');
      await expect(queued).resolves.toBe('queued');
      await peer.waitForEnd();
    });

    it('fails a call CANCELLED when the channel closes while its connection is being made, and ends that connection', async () => {
      const server = await rawServer();
      const c = channel(server.path);
      const call = c.call(Echo, 'x', { timeoutMs: 3_000 });
      c.close();
      await expect(call).rejects.toMatchObject({ code: G.CANCELLED });
      const peer = await server.nextPeer();
      await peer.waitForEnd();
      expect(peer.frames.filter((f) => f.type === T.HEADERS)).toEqual([]);
    });

    it('cancels a call waiting for a free stream when its signal aborts: CANCELLED, never sent, the next one still starts', async () => {
      const [connection, peer] = await ready(await rawServer(settings([S.MAX_CONCURRENT_STREAMS, 1]), null));
      const first = connection.call(Echo, 'first', { timeoutMs: 3_000 });
      const aborter = new AbortController();
      const aborted = connection.call(Echo, 'aborted', { timeoutMs: 3_000, signal: aborter.signal });
      const third = connection.call(Echo, 'third', { timeoutMs: 3_000 });
      const id = await peer.request(0);
      aborter.abort(new Error('no longer needed'));
      await expect(aborted).rejects.toMatchObject({ code: G.CANCELLED, unprocessed: true });
      peer.onRequest = echo;
      peer.send(...reply(id, 'first'));
      await expect(first).resolves.toBe('first');
      await expect(third).resolves.toBe('third');
      expect([...peer.requests.values()]).toEqual(['first', 'third']);
    });

    it('sends calls queued on a connection that used up its stream identifiers on a new connection', async () => {
      const server = await rawServer(settings([S.MAX_CONCURRENT_STREAMS, 1]));
      const c = channel(server.path);
      await expect(c.call(Echo, 'warm', { timeoutMs: 3_000 })).resolves.toBe('warm');
      const old = await server.nextPeer();
      // No production hook exists for this: the private counter is moved to the last two identifiers.
      (c as unknown as { connection: { nextStreamId: number } }).connection.nextStreamId = 0x7fff_fffd;
      old.onRequest = null;
      const a = c.call(Echo, 'a', { timeoutMs: 3_000 });
      const b = c.call(Echo, 'b', { timeoutMs: 3_000 });
      const late = c.call(Echo, 'c', { timeoutMs: 3_000 });
      expect(await old.request(1)).toBe(0x7fff_fffd);
      old.send(...reply(0x7fff_fffd, 'a'));
      await expect(a).resolves.toBe('a');
      expect(await old.request(2)).toBe(0x7fff_ffff);
      await expect(late).resolves.toBe('c');
      expect((await server.nextPeer()).requests.get(1)).toBe('c');
      old.send(...reply(0x7fff_ffff, 'b'));
      await expect(b).resolves.toBe('b');
      await old.waitForEnd();
    });

    it('takes a connection out of use as soon as the server ends its side: a call made then fails as never sent', async () => {
      const server = await rawServer(settings(), null);
      const { connection, socket } = await openWithSocket(server.path);
      const inFlight = connection.call(Echo, 'in flight', { timeoutMs: 3_000 });
      // Made from the client socket's 'end' listener: after the server's FIN, before the socket closes.
      const late = new Promise((resolve) => socket.once('end', () => resolve(connection.call(Echo, 'late', { timeoutMs: 3_000 }).catch((e: unknown) => e))));
      const peer = await server.nextPeer();
      await peer.request(0);
      peer.socket.end();
      await expect(inFlight).rejects.toMatchObject({ code: G.UNAVAILABLE, unprocessed: false });
      expect(await late).toMatchObject({ code: G.UNAVAILABLE, unprocessed: true });
      expect(connection.usable).toBe(false);
    });

    it('fails calls in flight UNAVAILABLE when the server closes the socket, and connects again for the next', async () => {
      const server = await rawServer(settings(), null);
      const c = channel(server.path);
      const call = c.call(Echo, 'x', { timeoutMs: 3_000 });
      const peer = await server.nextPeer();
      await peer.request(0);
      const next = server.nextPeer().then((p) => ((p.onRequest = echo), p));
      peer.socket.end();
      await expect(call).rejects.toMatchObject({ code: G.UNAVAILABLE, unprocessed: false });
      await expect(c.call(Echo, 'next', { timeoutMs: 3_000 })).resolves.toBe('next');
      await next;
    });
  });
});
