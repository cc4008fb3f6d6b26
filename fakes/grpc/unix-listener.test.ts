import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeaderBlock } from '../../agent/runtime/h2/hpack/encoder.js';
import { FLAG, FRAME, frame, PREFACE, rawGrpcCall } from './h2-authority/testing.js';
import { listenGrpcUnix } from './unix-listener.js';

const identity = (b: Buffer): Buffer => b;
/** A service whose one method answers with its request reversed. */
const ECHO = {
  Reverse: { path: '/test.Echo/Reverse', requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;
const EchoClient = grpc.makeGenericClientConstructor(ECHO, 'Echo');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function echoServer(): grpc.Server {
  const server = new grpc.Server();
  server.addService(ECHO, { Reverse: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(call.request).reverse()) });
  cleanups.push(() => server.forceShutdown());
  return server;
}

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-unix-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'test.sock');
}

const reverse = (client: grpc.Client, body: string): Promise<string> =>
  new Promise((resolve, reject) =>
    (client as unknown as { Reverse: (req: Buffer, cb: (e: Error | null, r: Buffer) => void) => void }).Reverse(Buffer.from(body), (e, r) => (e ? reject(e) : resolve(r.toString()))),
  );

describe('a gRPC server on a unix socket through listenGrpcUnix', () => {
  it('answers a client that sends the socket path as :authority, whose streams Node\'s own listener resets', async () => {
    const path = socketPath();
    const listener = await listenGrpcUnix(echoServer(), path);
    cleanups.push(() => listener.close());
    expect(await rawGrpcCall(path, '/test.Echo/Reverse', path, Buffer.from('abc'))).toEqual({ httpStatus: 200, grpcStatus: '0', message: Buffer.from('cba'), rstCode: 0 });

    // The same server bound by grpc-js itself: nghttp2 refuses the authority (RST_STREAM PROTOCOL_ERROR = 1).
    const bare = echoServer();
    const barePath = socketPath();
    await new Promise<void>((resolve, reject) => bare.bindAsync(`unix:${barePath}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    expect(await rawGrpcCall(barePath, '/test.Echo/Reverse', barePath, Buffer.from('abc'))).toMatchObject({ httpStatus: undefined, rstCode: 1 });
  });

  it('rewrites every request of a socket-path client on one connection: concurrent calls, large bodies, changing headers', async () => {
    const path = socketPath();
    const handoffs: string[] = [];
    const listener = await listenGrpcUnix(echoServer(), path, { onHandoff: (how) => handoffs.push(how) });
    cleanups.push(() => listener.close());
    const session = http2.connect('http://localhost', { createConnection: () => connect(path) });
    cleanups.push(() => session.close());
    const call = (i: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const body = Buffer.from(`${i}:`.repeat(i * 3_000));
        const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
        frame.writeUInt32BE(body.length, 1);
        const stream = session.request({ ':method': 'POST', ':path': '/test.Echo/Reverse', ':authority': path, 'content-type': 'application/grpc', te: 'trailers', 'x-call': `call-${i}` });
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('error', reject);
        stream.on('trailers', (t) => (t['grpc-status'] === '0' ? resolve(Buffer.concat(chunks).subarray(5).toString()) : reject(new Error(String(t['grpc-message'])))));
        stream.end(frame);
      });
    const expected = (i: number): string => [...`${i}:`.repeat(i * 3_000)].reverse().join('');
    expect(await call(1)).toBe(expected(1));
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(i + 2)));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => expected(i + 2)));
    expect(handoffs).toEqual(['rewriting']);
  });

  it('serves grpc-js clients (acceptable :authority) unchanged, on a socket only its owner can use, removed on close', async () => {
    const path = socketPath();
    const rejected: Error[] = [];
    const handoffs: string[] = [];
    const listener = await listenGrpcUnix(echoServer(), path, { onRejected: (e) => rejected.push(e), onHandoff: (how) => handoffs.push(how) });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const client = new EchoClient(`unix:${path}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const bodies = Array.from({ length: 20 }, (_, i) => `request ${i} `.repeat(i * 100));
    expect(await Promise.all(bodies.map((b) => reverse(client, b)))).toEqual(bodies.map((b) => [...b].reverse().join('')));
    expect(rejected).toEqual([]);
    // handed over as the socket itself: Node's HTTP/2 reads it natively, nothing filters its bytes
    expect(handoffs).toEqual(['socket']);
    await rawGrpcCall(path, '/test.Echo/Reverse', path, Buffer.from('x'));
    expect(handoffs).toEqual(['socket', 'rewriting']);
    listener.close();
    expect(existsSync(path)).toBe(false);
  });

  it('closes a connection whose frames cannot be rewritten and goes on serving the others', async () => {
    const path = socketPath();
    const rejected: Error[] = [];
    const listener = await listenGrpcUnix(echoServer(), path, { onRejected: (e) => rejected.push(e) });
    cleanups.push(() => listener.close());
    const request = encodeHeaderBlock([
      { name: ':method', value: 'POST' },
      { name: ':scheme', value: 'http' },
      { name: ':path', value: '/test.Echo/Reverse' },
      { name: ':authority', value: path },
      { name: 'content-type', value: 'application/grpc' },
    ]);
    const socket = connect(path);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.resume(); // read (and drop) the server's bytes, so the close is seen
    socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0), frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, request)]));
    socket.write(frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 3, Buffer.from([0xff, 0xff])));
    await closed;
    expect(rejected.map((e) => e.message)).toEqual(['CONTINUATION frame without a HEADERS frame']);
    expect(await rawGrpcCall(path, '/test.Echo/Reverse', path, Buffer.from('still here'))).toMatchObject({ grpcStatus: '0', message: Buffer.from('ereh llits') });
  });

  it('hands a client that is not HTTP/2 to the server unchanged, which closes it', async () => {
    const path = socketPath();
    const handoffs: string[] = [];
    const listener = await listenGrpcUnix(echoServer(), path, { onHandoff: (how) => handoffs.push(how) });
    cleanups.push(() => listener.close());
    const socket = connect(path);
    socket.on('error', () => {});
    socket.resume();
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed;
    expect(handoffs).toEqual(['socket']);
  });

  it('closes connections that have sent no request yet when it stops listening', async () => {
    const path = socketPath();
    const listener = await listenGrpcUnix(echoServer(), path);
    const socket = connect(path);
    socket.on('error', () => {});
    socket.resume();
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]), () => resolve()));
    listener.close();
    await closed;
  });

  it('drops every open connection at once when asked, as a dying process would', async () => {
    const path = socketPath();
    const listener = await listenGrpcUnix(echoServer(), path);
    cleanups.push(() => listener.close());
    const client = new EchoClient(`unix:${path}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    await reverse(client, 'x');
    const changed = new Promise<void>((resolve) => client.getChannel().watchConnectivityState(grpc.connectivityState.READY, Date.now() + 5000, () => resolve()));
    listener.destroyConnections();
    await changed;
    expect(client.getChannel().getConnectivityState(false)).not.toBe(grpc.connectivityState.READY);
  });
});
