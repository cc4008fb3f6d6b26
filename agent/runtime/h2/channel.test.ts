import * as grpc from '@grpc/grpc-js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../../clock/index.js';
import { loadCriProto } from '../proto.js';
import { GrpcUnaryChannel, unixSocketPath, UnaryCallError, type UnaryMethod } from './channel.js';
import { grpcTimeout, readReply } from './grpc-wire.js';

const proto = loadCriProto();
type Definition = Record<string, UnaryMethod<object, Record<string, unknown>>>;
const runtime = proto.RuntimeService.service as unknown as Definition;
const Version = runtime['Version']!;

type Handlers = grpc.UntypedServiceImplementation;

/** A grpc-js server with `handlers` on a unix socket (mode 0600). */
async function serve(socket: string, handlers: Handlers, options: grpc.ServerOptions = {}): Promise<grpc.Server> {
  const server = new grpc.Server(options);
  server.addService(proto.RuntimeService.service, handlers);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  chmodSync(socket, 0o600);
  return server;
}

const echo = (call: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void =>
  cb(null, { version: call.request.version, runtimeName: 'echo', runtimeVersion: '1', runtimeApiVersion: 'v1' });

describe('the agent gRPC unary channel against a grpc-js server', () => {
  let dir: string;
  let server: grpc.Server;
  let channel: GrpcUnaryChannel;
  const seen: { userAgent?: string; authority?: string; cancelled: number } = { cancelled: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'h2-channel-'));
    server = await serve(join(dir, 's.sock'), {
      Version: (call: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.userAgent = String(call.metadata.get('user-agent')[0]);
        seen.authority = call.getHost();
        echo(call, cb);
      },
      StopContainer: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'container "x" not found: 100% gone, ünïcode' }),
      // Never answers: only the deadline or a cancellation ends the call.
      StartContainer: (call: grpc.ServerUnaryCall<unknown, unknown>) => call.on('cancelled', () => seen.cancelled++),
    });
    channel = new GrpcUnaryChannel(join(dir, 's.sock'), realClock);
  });

  afterAll(() => {
    channel.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the request message and decodes the reply, as a unix-socket gRPC client does', async () => {
    const reply = await channel.call(Version, { version: 'v1alpha9' }, { timeoutMs: 5_000 });
    expect(reply).toMatchObject({ version: 'v1alpha9', runtimeName: 'echo', runtimeApiVersion: 'v1' });
    expect(seen.authority).toBe('localhost');
    expect(seen.userAgent).toMatch(/^kubelet-harness-agent/);
  });

  it('rejects with the status code and the decoded message of an error reply', async () => {
    const failure = channel.call(runtime['StopContainer']!, { containerId: 'x', timeout: 0 }, { timeoutMs: 5_000 });
    await expect(failure).rejects.toBeInstanceOf(UnaryCallError);
    await expect(failure).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'container "x" not found: 100% gone, ünïcode', localDeadline: false });
  });

  it('ends a hung call DEADLINE_EXCEEDED on its own clock, and the server sees the stream cancelled', async () => {
    const before = seen.cancelled;
    await expect(channel.call(runtime['StartContainer']!, { containerId: 'x' }, { timeoutMs: 50 })).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED, localDeadline: true });
    await expect.poll(() => seen.cancelled).toBe(before + 1);
  });

  it('cancels a call when its signal aborts: CANCELLED here, the stream reset at the server', async () => {
    const before = seen.cancelled;
    const aborter = new AbortController();
    const call = channel.call(runtime['StartContainer']!, { containerId: 'x' }, { timeoutMs: 5_000, signal: aborter.signal });
    setTimeout(() => aborter.abort(new Error('stop')), 20);
    await expect(call).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    await expect.poll(() => seen.cancelled).toBe(before + 1);
  });

  it('keeps serving calls on the same connection after failed ones', async () => {
    await expect(channel.call(Version, { version: 'again' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ version: 'again' });
  });

  it('runs many calls at once on one connection, each answered with its own reply', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => channel.call(Version, { version: `v${i}` }, { timeoutMs: 5_000 })));
    expect(replies.map((r) => r['version'])).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
  });

  it('sends and receives messages larger than a frame and than the initial flow-control window', async () => {
    const version = 'x'.repeat(300_000);
    const [big, small] = await Promise.all([channel.call(Version, { version }, { timeoutMs: 5_000 }), channel.call(Version, { version: 'small' }, { timeoutMs: 5_000 })]);
    expect(big['version']).toBe(version);
    expect(small['version']).toBe('small');
  });

  it('refuses a reply larger than its receive limit and a request larger than its send limit, naming the limit', async () => {
    const small = new GrpcUnaryChannel(join(dir, 's.sock'), realClock, { maxReceiveMessageBytes: 1_000, maxSendMessageBytes: 50_000 });
    try {
      await expect(small.call(Version, { version: 'y'.repeat(2_000) }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/limit of 1000 bytes/) });
      await expect(small.call(Version, { version: 'y'.repeat(60_000) }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/limit of 50000/) });
      await expect(small.call(Version, { version: 'fits' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ version: 'fits' });
    } finally {
      small.close();
    }
  });

  it('lets calls in flight finish on close, then refuses new ones as CANCELLED', async () => {
    const own = new GrpcUnaryChannel(join(dir, 's.sock'), realClock);
    await own.call(Version, { version: 'first' }, { timeoutMs: 5_000 });
    const inFlight = own.call(Version, { version: 'last' }, { timeoutMs: 5_000 });
    own.close();
    await expect(inFlight).resolves.toMatchObject({ version: 'last' });
    await expect(own.call(Version, { version: 'late' }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: grpc.status.CANCELLED });
  });
});

describe('the agent gRPC unary channel when the server comes and goes', () => {
  let dir: string;
  const servers: grpc.Server[] = [];
  const channels: GrpcUnaryChannel[] = [];
  const socket = (): string => join(dir, 's.sock');
  const open = (): GrpcUnaryChannel => {
    const channel = new GrpcUnaryChannel(socket(), realClock);
    channels.push(channel);
    return channel;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'h2-channel-restart-'));
  });
  afterEach(() => {
    for (const c of channels.splice(0)) c.close();
    for (const s of servers.splice(0)) s.forceShutdown();
    rmSync(socket(), { force: true });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails a call UNAVAILABLE at once when nothing listens, naming the socket', async () => {
    await expect(open().call(Version, { version: 'v1' }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining(`unix://${socket()}`),
      unprocessed: true,
    });
  });

  it('holds a wait-for-ready call until the server appears, then sends it once', async () => {
    let calls = 0;
    const channel = open();
    const call = channel.call(Version, { version: 'patient' }, { timeoutMs: 5_000, waitForReady: true });
    await new Promise((resolve) => setTimeout(resolve, 250));
    servers.push(await serve(socket(), { Version: (c: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => (calls++, echo(c, cb)) }));
    await expect(call).resolves.toMatchObject({ version: 'patient' });
    expect(calls).toBe(1);
  });

  it('ends a wait-for-ready call DEADLINE_EXCEEDED when no server appears in time', async () => {
    await expect(open().call(Version, { version: 'v1' }, { timeoutMs: 300, waitForReady: true })).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED, localDeadline: true });
  });

  it('makes a new connection after the server restarts on the same socket', async () => {
    servers.push(await serve(socket(), { Version: echo }));
    const channel = open();
    await expect(channel.call(Version, { version: 'before' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ version: 'before' });
    servers.pop()!.forceShutdown();
    rmSync(socket(), { force: true });
    await expect(channel.call(Version, { version: 'down' }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    servers.push(await serve(socket(), { Version: echo }));
    await expect(channel.call(Version, { version: 'after' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ version: 'after' });
  });

  it('answers a call in flight when the server shuts down gracefully (GOAWAY), and reconnects for the next', async () => {
    let release: (() => void) | undefined;
    const slow = (c: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>): void => {
      release = () => echo(c, cb);
    };
    const first = await serve(socket(), { Version: slow });
    servers.push(first);
    const channel = open();
    const inFlight = channel.call(Version, { version: 'in flight' }, { timeoutMs: 5_000 });
    await expect.poll(() => release).toBeDefined();
    const shutDown = new Promise<void>((resolve) => first.tryShutdown(() => resolve()));
    release!();
    await expect(inFlight).resolves.toMatchObject({ version: 'in flight' });
    await shutDown;
    rmSync(socket(), { force: true });
    servers.push(await serve(socket(), { Version: echo }));
    await expect(channel.call(Version, { version: 'next' }, { timeoutMs: 5_000 })).resolves.toMatchObject({ version: 'next' });
  });

  it("keeps within the server's MAX_CONCURRENT_STREAMS: calls beyond it wait for a free stream", async () => {
    let active = 0;
    let most = 0;
    servers.push(
      await serve(
        socket(),
        {
          Version: (c: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
            most = Math.max(most, ++active);
            setTimeout(() => (active--, echo(c, cb)), 10);
          },
        },
        { 'grpc.max_concurrent_streams': 2 },
      ),
    );
    const channel = open();
    // The first call lets the server's SETTINGS arrive before the burst.
    await channel.call(Version, { version: 'warm' }, { timeoutMs: 5_000 });
    const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => channel.call(Version, { version: `c${i}` }, { timeoutMs: 5_000 })));
    expect(replies.map((r) => r['version'])).toEqual(Array.from({ length: 12 }, (_, i) => `c${i}`));
    expect(most).toBeLessThanOrEqual(2);
  });
});

describe('gRPC wire details', () => {
  const frame = (flag: number, payload: Buffer): Buffer => Buffer.concat([Buffer.from([flag, 0, 0, 0, payload.length]), payload]);

  it('returns the message bytes of an OK reply', () => {
    expect(readReply({ 'grpc-status': '0' }, frame(0, Buffer.from('abc')))).toEqual(Buffer.from('abc'));
  });

  it('refuses a frame whose declared length does not match the bytes received', () => {
    const bytes = frame(0, Buffer.from('abc')).subarray(0, 7);
    expect(readReply({ 'grpc-status': '0' }, bytes)).toMatchObject({ code: 13, details: expect.stringMatching(/declares 3 bytes, carries 2/) });
  });

  it('refuses a compressed frame, since no compression was offered', () => {
    expect(readReply({ 'grpc-status': '0' }, frame(1, Buffer.from('abc')))).toMatchObject({ code: 13 });
  });

  it('reports a stream that ended without a status as INTERNAL', () => {
    expect(readReply(null, Buffer.alloc(0))).toMatchObject({ code: 13 });
  });

  it('reads a malformed or empty grpc-status as UNKNOWN, naming it, never as OK', () => {
    expect(readReply({ 'grpc-status': 'oops' }, Buffer.alloc(0))).toMatchObject({ code: 2, details: 'malformed grpc-status "oops"' });
    expect(readReply({ 'grpc-status': '' }, frame(0, Buffer.from('abc')))).toMatchObject({ code: 2, details: 'malformed grpc-status ""' });
    expect(readReply({ 'grpc-status': ' 5' }, Buffer.alloc(0))).toMatchObject({ code: 2 });
    expect(readReply({ 'grpc-status': '5', 'grpc-message': 'no such thing' }, Buffer.alloc(0))).toMatchObject({ code: 5, details: 'no such thing' });
  });

  it('writes grpc-timeout with at most 8 digits, rounding up to the next unit', () => {
    expect(grpcTimeout(120_000)).toBe('120000m');
    expect(grpcTimeout(0.2)).toBe('1m');
    expect(grpcTimeout(100_000_000)).toBe('100000S');
    expect(grpcTimeout(100_000_000_001)).toBe('1666667M');
  });

  it('accepts unix:///path and unix:/path endpoints and nothing else', () => {
    expect(unixSocketPath('unix:///run/containerd/containerd.sock')).toBe('/run/containerd/containerd.sock');
    expect(unixSocketPath('unix:/tmp/x.sock')).toBe('/tmp/x.sock');
    expect(() => unixSocketPath('localhost:50051')).toThrow(/unix:\/\/\/absolute\/path/);
    expect(() => unixSocketPath('unix://relative.sock')).toThrow();
  });
});
