import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { CriError } from '../../agent/runtime/rpc-error.js';
import { match } from '../journal/journal.js';
import { startFakeCri, type FakeCri } from './server.js';
import { runChannelExec, UpgradeRefused } from './streaming-client.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function running(command = ['sh', '-c', 'echo hello > /tmp/greeting; sleep 3600']): Promise<{ fake: FakeCri; cri: CriClient; containerId: string }> {
  const fake = await startFakeCri();
  cleanups.push(() => fake.close());
  const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000 });
  cleanups.push(() => cri.close());
  const logDirectory = mkdtempSync(join(tmpdir(), 'fake-cri-exec-'));
  cleanups.push(() => rmSync(logDirectory, { recursive: true, force: true }));
  await cri.pullImage({ image: { image: 'busybox' } });
  const config = { metadata: { name: 'p', uid: 'uid-p', namespace: 'default', attempt: 0 }, hostname: 'p', logDirectory };
  const { podSandboxId } = await cri.runPodSandbox({ config });
  const { containerId } = await cri.createContainer({
    podSandboxId,
    sandboxConfig: config,
    config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' }, command, logPath: 'app.log' },
  });
  await cri.startContainer({ containerId });
  return { fake, cri, containerId };
}

async function kindOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (err) {
    if (err instanceof CriError) return `${err.kind}: ${err.details}`;
    throw err;
  }
}

function plainGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** The raw answer to an upgrade request with the given Upgrade header. */
function upgradeAnswer(url: string, upgrade: string): Promise<string> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    });
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('CRI Exec on the fake runtime', () => {
  it('returns a single-use loopback URL whose WebSocket runs the command with stdout, stderr and the exit status', async () => {
    const { fake, cri, containerId } = await running();
    const cmd = ['sh', '-c', 'cat /tmp/greeting; echo oops >&2; exit 3'];
    const { url } = await cri.exec({ containerId, cmd, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{11}$/);
    const result = await runChannelExec(url);
    expect(result).toMatchObject({ protocol: 'v5.channel.k8s.io', stdout: 'hello\n', stderr: 'oops\n', exitCode: 3 });
    expect(result.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c cat /tmp/greeting; echo oops >&2; exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // The token is spent.
    await expect(runChannelExec(url)).rejects.toEqual(new UpgradeRefused(404, '404 page not found\n'));
    expect(fake.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([{ subject: { containerId }, response: { exitCode: 3 } }]);
  });

  it('feeds stdin to the command until a v5 client closes it', async () => {
    const { cri, containerId } = await running();
    const { url } = await cri.exec({ containerId, cmd: ['sh', '-c', 'cat > /tmp/in; cat /tmp/in; echo done'], stdin: true, stdout: true });
    const result = await runChannelExec(url, { stdin: 'line one\nline two\n' });
    expect(result).toMatchObject({ stdout: 'line one\nline two\ndone\n', stderr: '', exitCode: 0, status: { metadata: {}, status: 'Success' } });
    // sh with no script reads its script from stdin.
    const again = await cri.exec({ containerId, cmd: ['sh'], stdin: true, stdout: true });
    expect(await runChannelExec(again.url, { stdin: 'cat /tmp/in\nexit 4\n' })).toMatchObject({ stdout: 'line one\nline two\n', exitCode: 4 });
  });

  it('speaks v4 and the base64 and pre-v4 variants as the kubelet streaming package does', async () => {
    const { cri, containerId } = await running();
    const cmd = ['sh', '-c', 'echo out; exit 2'];
    const v4 = await runChannelExec((await cri.exec({ containerId, cmd, stdout: true })).url, { protocols: ['v4.channel.k8s.io'] });
    expect(v4).toMatchObject({ protocol: 'v4.channel.k8s.io', stdout: 'out\n', exitCode: 2 });
    const b64 = await runChannelExec((await cri.exec({ containerId, cmd, stdout: true })).url, { protocols: ['v4.base64.channel.k8s.io'] });
    expect(b64).toMatchObject({ protocol: 'v4.base64.channel.k8s.io', stdout: 'out\n', exitCode: 2 });
    // Before v4 the error channel carries only the failure's message.
    const v1 = await runChannelExec((await cri.exec({ containerId, cmd, stdout: true })).url, { protocols: ['channel.k8s.io'] });
    expect(v1).toMatchObject({ protocol: 'channel.k8s.io', stdout: 'out\n', status: 'command terminated with non-zero exit code: error executing command [sh -c echo out; exit 2], exit code 2' });
    const v1ok = await runChannelExec((await cri.exec({ containerId, cmd: ['true'], stdout: true })).url, { protocols: ['channel.k8s.io'] });
    expect(v1ok).toMatchObject({ status: '', exitCode: 0 });
  });

  it('refuses unknown subprotocols with 403, and plain HTTP and SPDY with 400, spending the token either way', async () => {
    const { cri, containerId } = await running();
    const url1 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    await expect(runChannelExec(url1, { protocols: ['v9.channel.k8s.io'] })).rejects.toEqual(new UpgradeRefused(403, ''));
    const url2 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    expect(await plainGet(url2)).toEqual({ status: 400, body: 'unable to upgrade: missing upgrade headers in request\n' });
    expect((await plainGet(url2)).status).toBe(404);
    const url3 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    const spdy = await upgradeAnswer(url3, 'SPDY/3.1');
    expect(spdy).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nunable to upgrade: only WebSocket streams are served \(.*v5\.channel\.k8s\.io\); SPDY is not supported by the fake runtime\n$/);
    expect(await upgradeAnswer(url3, 'websocket')).toMatch(/^HTTP\/1\.1 404 Not Found/);
  });

  it('reports an unknown executable as an internal error, as containerd does', async () => {
    const { cri, containerId } = await running();
    const result = await runChannelExec((await cri.exec({ containerId, cmd: ['nosuchcmd'], stdout: true, stderr: true })).url);
    expect(result.exitCode).toBeNull();
    expect(result.status).toMatchObject({
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: expect.stringMatching(/^Internal error occurred: error executing command in container: failed to exec in container: .*exec: "nosuchcmd": executable file not found in \$PATH: unknown$/),
    });
  });

  it('merges stderr into stdout with \\r\\n line ends under a TTY', async () => {
    const { cri, containerId } = await running();
    const result = await runChannelExec((await cri.exec({ containerId, cmd: ['sh', '-c', 'echo a; echo b >&2'], tty: true, stdout: true })).url);
    expect(result).toMatchObject({ stdout: 'a\r\nb\r\n', stderr: '', exitCode: 0 });
  });

  it('validates the Exec request like containerd and the streaming package', async () => {
    const { cri, containerId } = await running();
    expect(await kindOf(cri.exec({ containerId: '', cmd: ['true'], stdout: true }))).toBe('InvalidArgument: container_id is required');
    expect(await kindOf(cri.exec({ containerId, cmd: [], stdout: true }))).toBe('InvalidArgument: cmd is required');
    expect(await kindOf(cri.exec({ containerId: 'nope', cmd: ['true'], stdout: true }))).toBe('NotFound: failed to find container "nope" in store: not found');
    expect(await kindOf(cri.exec({ containerId, cmd: ['true'], tty: true, stdout: true, stderr: true }))).toBe('InvalidArgument: tty and stderr cannot both be true');
    expect(await kindOf(cri.exec({ containerId, cmd: ['true'] }))).toBe('InvalidArgument: one of stdin, stdout, or stderr must be set');
    await cri.stopContainer({ containerId, timeout: 0 });
    expect(await kindOf(cri.exec({ containerId, cmd: ['true'], stdout: true }))).toBe('Unknown: container is in CONTAINER_EXITED state');
  });

  it('kills the exec when the client goes away and when the container stops', async () => {
    const { cri, containerId } = await running();
    const { url } = await cri.exec({ containerId, cmd: ['sleep', '3600'], stdout: true });
    const pending = runChannelExec(url);
    await new Promise((r) => setTimeout(r, 100));
    await cri.stopContainer({ containerId, timeout: 0 });
    const result = await pending;
    expect(result.exitCode).toBe(137);
  });

  it('survives arbitrary client messages: garbage is ignored, the session still ends with its status', async () => {
    const { cri, containerId } = await running();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }),
        fc.constantFrom('v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'),
        fc.boolean(),
        async (messages, protocol, asText) => {
          const { url } = await cri.exec({ containerId, cmd: ['sh', '-c', 'echo up; sleep 0.05; exit 6'], stdin: true, stdout: true, stderr: true });
          const ws = new WebSocket(url.replace(/^http/, 'ws'), [protocol]);
          let closed = false;
          let frames = 0;
          ws.on('message', () => frames++);
          await new Promise<void>((resolve, reject) => {
            ws.on('open', () => {
              for (const m of messages) ws.send(Buffer.from(m), { binary: !asText });
            });
            ws.on('close', (code) => {
              closed = code === 1000;
              resolve();
            });
            ws.on('error', reject);
          });
          // The ready message, stdout, and the outcome at least (v1 reports a failure too).
          return closed && frames >= 3;
        },
      ),
      { numRuns: 40 },
    );
    // The runtime still serves exec afterwards.
    expect((await runChannelExec((await cri.exec({ containerId, cmd: ['true'], stdout: true })).url)).exitCode).toBe(0);
  });
});
