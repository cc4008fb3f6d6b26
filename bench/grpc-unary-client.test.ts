import * as grpc from '@grpc/grpc-js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realClock } from '../agent/clock/index.js';
import { loadCriProto } from '../agent/runtime/proto.js';
import { connectUnary, readReply, UnaryCallError, unixSocketPath, type UnaryClient, type UnaryMethod } from './grpc-unary-client.js';

const proto = loadCriProto();
type Definition = Record<string, UnaryMethod<object, Record<string, unknown>>>;
const runtime = proto.RuntimeService.service as unknown as Definition;

describe('the bench unary client against a grpc-js server', () => {
  let dir: string;
  let server: grpc.Server;
  let client: UnaryClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unary-client-'));
    const socket = join(dir, 's.sock');
    server = new grpc.Server();
    server.addService(proto.RuntimeService.service, {
      Version: (call: grpc.ServerUnaryCall<{ version: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { version: call.request.version, runtimeName: 'echo', runtimeVersion: '1', runtimeApiVersion: 'v1' }),
      StopContainer: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'container "x" not found: 100% gone, ünïcode' }),
      // Never answers: only the deadline ends the call.
      StartContainer: () => undefined,
    });
    await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
    chmodSync(socket, 0o600);
    client = connectUnary(`unix://${socket}`, realClock);
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the request message and decodes the reply', async () => {
    const reply = await client.call(runtime['Version']!, { version: 'v1alpha9' }, 5_000);
    expect(reply).toMatchObject({ version: 'v1alpha9', runtimeName: 'echo', runtimeApiVersion: 'v1' });
  });

  it('rejects with the status code and the decoded message of an error reply', async () => {
    const failure = client.call(runtime['StopContainer']!, { containerId: 'x', timeout: 0 }, 5_000);
    await expect(failure).rejects.toBeInstanceOf(UnaryCallError);
    await expect(failure).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'container "x" not found: 100% gone, ünïcode' });
  });

  it('tells the server its deadline, so a hung call ends DEADLINE_EXCEEDED', async () => {
    await expect(client.call(runtime['StartContainer']!, { containerId: 'x' }, 50)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
  });

  it('keeps serving calls on the same connection after a failed one', async () => {
    await expect(client.call(runtime['Version']!, { version: 'again' }, 5_000)).resolves.toMatchObject({ version: 'again' });
  });

  it('runs many calls at once on one connection, each answered with its own reply', async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call(runtime['Version']!, { version: `v${i}` }, 5_000)));
    expect(replies.map((r) => r['version'])).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
  });

  it('sends and receives messages larger than a frame and than the initial flow-control window', async () => {
    const version = 'x'.repeat(300_000);
    const [big, small] = await Promise.all([
      client.call(runtime['Version']!, { version }, 5_000),
      client.call(runtime['Version']!, { version: 'small' }, 5_000),
    ]);
    expect(big['version']).toBe(version);
    expect(small['version']).toBe('small');
  });

  it('lets calls in flight finish on close, then refuses new ones', async () => {
    const own = connectUnary(`unix://${join(dir, 's.sock')}`, realClock);
    const inFlight = own.call(runtime['Version']!, { version: 'last' }, 5_000);
    own.close();
    await expect(inFlight).resolves.toMatchObject({ version: 'last' });
    await expect(own.call(runtime['Version']!, { version: 'late' }, 5_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('fails calls with UNAVAILABLE when nothing listens at the socket', async () => {
    const nobody = connectUnary(`unix://${join(dir, 'nobody.sock')}`, realClock);
    await expect(nobody.call(runtime['Version']!, { version: 'v1' }, 5_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    nobody.close();
  });
});

describe('reading a reply', () => {
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

  it('names a malformed grpc-status', () => {
    expect(readReply({ 'grpc-status': 'oops' }, Buffer.alloc(0))).toMatchObject({ code: 13, details: 'malformed grpc-status "oops"' });
  });
});

describe('endpoints', () => {
  it('accepts unix:///path and unix:/path', () => {
    expect(unixSocketPath('unix:///run/containerd/containerd.sock')).toBe('/run/containerd/containerd.sock');
    expect(unixSocketPath('unix:/tmp/x.sock')).toBe('/tmp/x.sock');
  });

  it('refuses anything but a unix socket path', () => {
    expect(() => unixSocketPath('localhost:50051')).toThrow(/unix:\/\/\/absolute\/path/);
    expect(() => unixSocketPath('unix://relative.sock')).toThrow();
  });
});
