import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import type { RuntimeServiceHandlers } from '../../proto/generated/cri/runtime/v1/RuntimeService.js';
import type { ImageServiceHandlers } from '../../proto/generated/cri/runtime/v1/ImageService.js';
import type { VersionResponse__Output } from '../../proto/generated/cri/runtime/v1/VersionResponse.js';
import { CRI_STREAMING_RPCS, createCriClient, type CriClient } from './cri-client.js';
import type { RetryEvent } from './grpc-call.js';
import { loadCriProto } from './proto.js';
import { CriError, RpcError } from './rpc-error.js';

const dirs: string[] = [];
const servers: grpc.Server[] = [];
const clients: CriClient[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const server of servers.splice(0)) server.forceShutdown();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kh-cri-client-'));
  dirs.push(dir);
  return join(dir, 'cri.sock');
}

/** A tiny runtime: only the RPCs a test gives handlers for; the rest answer Unimplemented. */
async function startServer(
  path: string,
  runtime: Partial<RuntimeServiceHandlers>,
  image: Partial<ImageServiceHandlers> = {},
): Promise<grpc.Server> {
  const cri = loadCriProto();
  const server = new grpc.Server();
  server.addService(cri.RuntimeService.service, runtime as grpc.UntypedServiceImplementation);
  server.addService(cri.ImageService.service, image as grpc.UntypedServiceImplementation);
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  servers.push(server);
  return server;
}

function versionHandler(runtimeName: string): RuntimeServiceHandlers['Version'] {
  return (_call, callback) =>
    callback(null, { version: '0.1.0', runtimeName, runtimeVersion: '1.0', runtimeApiVersion: 'v1' });
}

function client(options: Parameters<typeof createCriClient>[0]): CriClient {
  const c = createCriClient(options);
  clients.push(c);
  return c;
}

async function expectCriError(promise: Promise<unknown>): Promise<CriError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(CriError);
    return err as CriError;
  }
  throw new Error('expected the call to fail');
}

describe('createCriClient', () => {
  it('offers one lowerCamel method per RPC of both services', () => {
    const c = client({ runtimeEndpoint: socketPath() });
    const cri = loadCriProto();
    const expected = [...Object.keys(cri.RuntimeService.service), ...Object.keys(cri.ImageService.service)].map(
      (name) => name.charAt(0).toLowerCase() + name.slice(1),
    );
    for (const name of expected) expect(typeof (c as unknown as Record<string, unknown>)[name], name).toBe('function');
    expect(expected).toContain('getContainerEvents');
    expect(expected).toContain('imageFsInfo');
    expect(expected).toContain('updatePodSandboxResources');
    const streaming = Object.entries({ ...cri.RuntimeService.service, ...cri.ImageService.service })
      .filter(([, method]) => method.responseStream)
      .map(([name]) => name);
    expect(streaming.sort()).toEqual([...CRI_STREAMING_RPCS].sort());
    // Compile-time guarantees (tsc fails when these stop being errors): request fields are the generated ones.
    const typeChecks = (): void => {
      // @ts-expect-error -- the field is containerId (camelCase), not containerID
      void c.containerStatus({ containerID: 'x' });
      // @ts-expect-error -- a client has no method for an RPC that does not exist
      void c.deleteEverything();
    };
    expect(typeof typeChecks).toBe('function');
  });

  it('calls a unary RPC over a unix socket given as unix:///path or as a bare path', async () => {
    const path = socketPath();
    await startServer(path, { Version: versionHandler('tiny') });
    const viaUri = await client({ runtimeEndpoint: `unix://${path}` }).version({ version: 'v1' });
    const viaPath: VersionResponse__Output = await client({ runtimeEndpoint: path }).version();
    expect(viaUri).toEqual({ version: '0.1.0', runtimeName: 'tiny', runtimeVersion: '1.0', runtimeApiVersion: 'v1' });
    expect(viaPath.runtimeName).toBe('tiny');
  });

  it('rejects endpoints that are not unix sockets, naming the option', () => {
    expect(() => createCriClient({ runtimeEndpoint: 'tcp://127.0.0.1:1234' })).toThrow(/runtimeEndpoint/);
    expect(() => createCriClient({ runtimeEndpoint: '/run/x.sock', imageEndpoint: 'relative.sock' })).toThrow(/imageEndpoint/);
    expect(() => createCriClient({ runtimeEndpoint: '/run/x.sock', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('routes image RPCs to the image endpoint when it differs', async () => {
    const runtimePath = socketPath();
    const imagePath = socketPath();
    await startServer(runtimePath, {}, {});
    await startServer(imagePath, {}, {
      ListImages: (_call, callback) => callback(null, { images: [{ id: 'sha256:abc', repoTags: ['busybox:1'], size: 42 }] }),
    });
    const c = client({ runtimeEndpoint: runtimePath, imageEndpoint: `unix://${imagePath}` });
    const { images } = await c.listImages({});
    expect(images.map((i) => [i.id, i.repoTags, i.size])).toEqual([['sha256:abc', ['busybox:1'], '42']]);
  });

  it('surfaces gRPC status codes as CriError with code and kind', async () => {
    const path = socketPath();
    await startServer(path, {
      ContainerStatus: (call, callback) =>
        callback({ code: grpc.status.NOT_FOUND, details: `container "${call.request.containerId}" not found` }),
      StartContainer: (_call, callback) => callback({ code: grpc.status.FAILED_PRECONDITION, details: 'not created' }),
    });
    const c = client({ runtimeEndpoint: path });
    const notFound = await expectCriError(c.containerStatus({ containerId: 'nope' }));
    expect(notFound.kind).toBe('NotFound');
    expect(notFound.code).toBe(grpc.status.NOT_FOUND);
    expect(notFound.rpc).toBe('RuntimeService/ContainerStatus');
    expect(notFound.message).toBe('RuntimeService/ContainerStatus: NotFound: container "nope" not found');
    expect(CriError.is(notFound, 'NotFound')).toBe(true);
    expect(RpcError.is(notFound, 'Unavailable')).toBe(false);
    expect((await expectCriError(c.startContainer({ containerId: 'x' }))).kind).toBe('FailedPrecondition');
    expect((await expectCriError(c.checkpointPod({}))).kind).toBe('Unimplemented');
  });

  it('applies the default deadline from the options and a per-call override', async () => {
    const path = socketPath();
    await startServer(path, {
      ListContainers: (_call, callback) => void setTimeout(() => callback(null, { containers: [] }), 400),
    });
    const c = client({ runtimeEndpoint: path, timeoutMs: 100 });
    const started = performance.now();
    const err = await expectCriError(c.listContainers({}));
    expect(err.kind).toBe('DeadlineExceeded');
    expect(performance.now() - started).toBeLessThan(350);
    await expect(c.listContainers({}, { timeoutMs: 2_000 })).resolves.toEqual({ containers: [] });
  });

  it('gives ExecSync its own timeout on top of the default deadline, as the kubelet does', async () => {
    const path = socketPath();
    await startServer(path, {
      ExecSync: (call, callback) =>
        void setTimeout(() => callback(null, { stdout: Buffer.from('ok'), stderr: Buffer.alloc(0), exitCode: 0 }), 300),
    });
    const c = client({ runtimeEndpoint: path, timeoutMs: 100 });
    expect((await expectCriError(c.execSync({ containerId: 'c', cmd: ['true'] }))).kind).toBe('DeadlineExceeded');
    const res = await c.execSync({ containerId: 'c', cmd: ['true'], timeout: 1 });
    expect(res.stdout.toString()).toBe('ok');
  });

  it('retries Unavailable on idempotent calls with doubling backoff until the deadline budget runs out', async () => {
    const retries: RetryEvent[] = [];
    const c = client({ runtimeEndpoint: socketPath(), timeoutMs: 1_000, onRetry: (e) => retries.push(e) });
    const err = await expectCriError(c.version({}));
    expect(err.kind).toBe('Unavailable');
    expect(retries.map((r) => r.delayMs)).toEqual([100, 200, 400]);
    expect(err.attempts).toBe(4);
    expect(err.message).toMatch(/after 4 attempts/);
    const once: RetryEvent[] = [];
    const noRetry = client({ runtimeEndpoint: socketPath(), onRetry: (e) => once.push(e) });
    expect((await expectCriError(noRetry.status({}, { retryUnavailable: false }))).attempts).toBe(1);
    expect(once).toEqual([]);
  });

  it('waits between retries on the injected clock, not on real timers', async () => {
    const clock = new VirtualClock();
    const retries: RetryEvent[] = [];
    const controller = new AbortController();
    const c = client({ runtimeEndpoint: socketPath(), clock, timeoutMs: 60_000, onRetry: (e) => retries.push(e) });
    const pending = c.version({}, { signal: controller.signal });
    pending.catch(() => {});
    await delay(300);
    expect(retries.map((r) => r.attempt)).toEqual([1]); // parked in a virtual sleep of 100 ms
    await clock.advance(100);
    await delay(300);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 100],
      [2, 200],
    ]);
    controller.abort();
    expect((await expectCriError(pending)).kind).toBe('Cancelled');
  });

  it('ends a call to a hung runtime when the injected clock passes its deadline', async () => {
    const path = socketPath();
    const hung: Array<() => void> = [];
    await startServer(path, {
      ListContainers: (_call, callback) => void hung.push(() => callback(null, { containers: [] })),
    });
    const clock = new VirtualClock();
    const c = client({ runtimeEndpoint: path, clock, timeoutMs: 60_000 });
    let settled = false;
    const pending = c.listContainers({}).finally(() => {
      settled = true;
    });
    pending.catch(() => {});
    await delay(200);
    expect(hung).toHaveLength(1);
    await clock.advance(59_999);
    await delay(100);
    expect(settled).toBe(false);
    await clock.advance(1);
    const err = await expectCriError(pending);
    expect(err.kind).toBe('DeadlineExceeded');
    expect(err.message).toMatch(/deadline of 60000 ms exceeded/);
  });

  it('reconnects when the runtime restarts on the same socket, resending idempotent calls', async () => {
    const path = socketPath();
    const first = await startServer(path, { Version: versionHandler('first') });
    const retries: RetryEvent[] = [];
    const c = client({ runtimeEndpoint: path, timeoutMs: 5_000, onRetry: (e) => retries.push(e) });
    expect((await c.version()).runtimeName).toBe('first');
    first.forceShutdown();
    const during = c.version();
    await delay(400);
    await startServer(path, { Version: versionHandler('second') });
    expect((await during).runtimeName).toBe('second');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((r) => r.error.kind === 'Unavailable')).toBe(true);
  });

  it('sends a non-idempotent call once, after waiting for the restarted runtime', async () => {
    const path = socketPath();
    const first = await startServer(path, { Version: versionHandler('first') });
    const retries: RetryEvent[] = [];
    const c = client({ runtimeEndpoint: path, timeoutMs: 5_000, onRetry: (e) => retries.push(e) });
    await c.version();
    first.forceShutdown();
    let received = 0;
    const during = c.runPodSandbox({ config: { metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 0 } } });
    await delay(400);
    await startServer(path, {
      RunPodSandbox: (call, callback) => {
        received++;
        callback(null, { podSandboxId: `sb-${call.request.config?.metadata?.name}` });
      },
    });
    expect(await during).toEqual({ podSandboxId: 'sb-p' });
    expect(received).toBe(1);
    expect(retries).toEqual([]);
  });

  it('streams GetContainerEvents as an async iterable and cancels the call when the consumer stops', async () => {
    const path = socketPath();
    let cancelled = false;
    await startServer(path, {
      GetContainerEvents: (call) => {
        call.on('cancelled', () => (cancelled = true));
        let n = 0;
        const timer = setInterval(() => {
          n++;
          call.write({
            containerId: `c${n}`,
            containerEventType: n === 1 ? 'CONTAINER_CREATED_EVENT' : 'CONTAINER_STARTED_EVENT',
            createdAt: '1795000000123456789',
            containersStatuses: [],
          });
        }, 20);
        call.on('close', () => clearInterval(timer));
        call.on('cancelled', () => clearInterval(timer));
      },
    });
    const c = client({ runtimeEndpoint: path });
    const seen: Array<[string, string, string]> = [];
    for await (const event of c.getContainerEvents({})) {
      seen.push([event.containerId, event.containerEventType, event.createdAt]);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([
      ['c1', 'CONTAINER_CREATED_EVENT', '1795000000123456789'],
      ['c2', 'CONTAINER_STARTED_EVENT', '1795000000123456789'],
      ['c3', 'CONTAINER_STARTED_EVENT', '1795000000123456789'],
    ]);
    await delay(100);
    expect(cancelled).toBe(true);
  });

  it('ends a stream with a CriError when the server fails it', async () => {
    const path = socketPath();
    await startServer(path, {
      StreamContainers: (call) => {
        call.write({ containers: [{ id: 'a' }] });
        call.emit('error', { code: grpc.status.INTERNAL, details: 'boom' });
      },
    });
    const c = client({ runtimeEndpoint: path });
    const ids: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const page of c.streamContainers({})) ids.push(...page.containers.map((x) => x.id));
    };
    const err = await expectCriError(consume());
    expect(err.kind).toBe('Internal');
    expect(err.details).toBe('boom');
    expect(ids).toEqual(['a']);
  });

  it('cancels an in-flight call when its signal aborts', async () => {
    const path = socketPath();
    let serverSawCancel = false;
    await startServer(path, {
      ListPodSandbox: (call, callback) => {
        call.on('cancelled', () => (serverSawCancel = true));
        setTimeout(() => callback(null, { items: [] }), 2_000);
      },
    });
    const c = client({ runtimeEndpoint: path });
    const controller = new AbortController();
    const pending = c.listPodSandbox({}, { signal: controller.signal });
    await delay(100);
    controller.abort();
    expect((await expectCriError(pending)).kind).toBe('Cancelled');
    await delay(100);
    expect(serverSawCancel).toBe(true);
  });

  it('fails calls after close() with kind Cancelled', async () => {
    const path = socketPath();
    await startServer(path, { Version: versionHandler('tiny') });
    const c = client({ runtimeEndpoint: path });
    await c.version();
    c.close();
    c.close();
    expect((await expectCriError(c.version())).kind).toBe('Cancelled');
  });

  it("leaves the process's stack trace limit as it was, and its own errors keep their stacks", async () => {
    const path = socketPath();
    await startServer(path, { Version: versionHandler('tiny'), ContainerStatus: (_call, callback) => callback({ code: grpc.status.NOT_FOUND, details: 'gone' }) });
    const c = client({ runtimeEndpoint: path });
    const limit = Error.stackTraceLimit;
    await c.version();
    expect(Error.stackTraceLimit).toBe(limit);
    expect((await expectCriError(c.containerStatus({ containerId: 'x' }))).stack).toMatch(/\n\s+at /);
    c.close();
    const closed = await expectCriError(c.version());
    expect(closed.kind).toBe('Cancelled');
    expect(closed.stack).toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
