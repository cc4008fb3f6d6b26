import { request } from 'node:http';
import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { match } from '../journal/journal.js';
import { kindOf } from './fake-cri-test-support.js';
import { controlFrame, dataFrame, decodeHeaderBlock, encodeHeaderBlock, FrameReader, HeaderDeflater, HeaderInflater, SYN_REPLY, SYN_STREAM } from './spdy/frames.js';
import { runChannelExec, runPortForward, UpgradeRefused } from './streaming-client.js';
import { HeaderCompressor, runSpdyExec } from './streaming-spdy-client.js';
import { rawAnswer, useRunningContainer } from './streaming-test-support.js';

const running = useRunningContainer();

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
const upgradeAnswer = (url: string, upgrade: string): Promise<string> =>
  rawAnswer(url, 'GET', `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`);

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

  it('refuses unknown subprotocols with 403, and plain HTTP or SPDY without X-Stream-Protocol-Version with 400, spending the token either way', async () => {
    const { cri, containerId } = await running();
    const url1 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    await expect(runChannelExec(url1, { protocols: ['v9.channel.k8s.io'] })).rejects.toEqual(new UpgradeRefused(403, ''));
    // Without a WebSocket upgrade the request is taken for SPDY, whose handshake needs the header.
    const url2 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    expect(await plainGet(url2)).toEqual({ status: 400, body: 'unable to upgrade: X-Stream-Protocol-Version is required\n' });
    expect((await plainGet(url2)).status).toBe(404);
    const url3 = (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    const spdy = await upgradeAnswer(url3, 'SPDY/3.1');
    expect(spdy).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nunable to upgrade: X-Stream-Protocol-Version is required\n$/);
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

describe('CRI Attach on the fake runtime', () => {
  it('streams what the container writes after the client attached, until it exits, then reports Success', async () => {
    const { fake, cri, containerId } = await running(['sh', '-c', 'echo before; sleep 1; echo after; echo oops >&2; exit 3']);
    const { url } = await cri.attach({ containerId, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attach\/[A-Za-z0-9_-]{11}$/);
    const result = await runChannelExec(url, { timeoutMs: 10_000 });
    expect({ stdout: result.stdout, stderr: result.stderr, status: result.status }).toEqual({
      stdout: 'after\n',
      stderr: 'oops\n',
      status: { metadata: {}, status: 'Success' },
    });
    expect(fake.journal.entries(match('cri', 'AttachSessionEnded'))).toHaveLength(1);
  });

  for (const [transport, attach] of [
    ['WebSocket', runChannelExec],
    ['SPDY', runSpdyExec],
  ] as const) {
    it(`passes an attached client's input over ${transport} to a container declared with stdin; with stdinOnce its end closes the container's stdin`, async () => {
      const { cri, containerId } = await running(['sh', '-c', 'cat; echo stdin closed; exit 4'], [], { stdin: true, stdinOnce: true });
      const { url } = await cri.attach({ containerId, stdin: true, stdout: true });
      const result = await attach(url, { stdin: 'first\nsecond\n', timeoutMs: 10_000 });
      expect([result.stdout, result.status]).toEqual(['first\nsecond\nstdin closed\n', { metadata: {}, status: 'Success' }]);
      expect((await cri.containerStatus({ containerId })).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 4 });
    });
  }

  it('drops input to a container without stdin', async () => {
    const { cri, containerId } = await running(['sh', '-c', 'sleep 0.3; cat; echo done']);
    const { url } = await cri.attach({ containerId, stdin: true, stdout: true });
    expect((await runChannelExec(url, { stdin: 'ignored\n', timeoutMs: 10_000 })).stdout).toBe('done\n');
  });

  it('ends the attach, not the container, when the client leaves', async () => {
    const { cri, containerId } = await running(['sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    const { url } = await cri.attach({ containerId, stdout: true });
    await expect(runChannelExec(url, { timeoutMs: 500 })).rejects.toThrow(/did not finish in 500 ms \(stdout so far: "tick\\ntick/);
    const { status } = await cri.containerStatus({ containerId });
    expect(status?.state).toBe('CONTAINER_RUNNING');
  });

  it('refuses a missing container, a stopped one and bad stream options as containerd does', async () => {
    const { cri, containerId } = await running(['sh', '-c', 'sleep 3600']);
    expect(await kindOf(cri.attach({ containerId, tty: true, stdout: true, stderr: true }))).toBe('InvalidArgument: tty and stderr cannot both be true');
    expect(await kindOf(cri.attach({ containerId }))).toBe('InvalidArgument: one of stdin, stdout, and stderr must be set');
    expect(await kindOf(cri.attach({ containerId: 'nope', stdout: true }))).toMatch(/^NotFound: /);
    await cri.stopContainer({ containerId, timeout: '0' });
    expect(await kindOf(cri.attach({ containerId, stdout: true }))).toBe('Unknown: container is in CONTAINER_EXITED state');
  });
});

describe('CRI PortForward on the fake runtime', () => {
  it('forwards the data channel to the pod IP and port: an HTTP request reaches the container server', async () => {
    const { fake, cri, podSandboxId } = await running(['sh', '-c', 'sleep 3600'], [{ key: 'FAKE_HTTP_PORTS', value: '8080' }]);
    const { url } = await cri.portForward({ podSandboxId, port: [8080] });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/portforward\/[A-Za-z0-9_-]{11}$/);
    const result = await runPortForward(url, 'GET /healthz HTTP/1.0\r\nHost: pod\r\n\r\n', { timeoutMs: 10_000 });
    expect(result.protocol).toBe('v4.channel.k8s.io');
    expect([result.dataPort, result.errorPort, result.error]).toEqual([8080, 8080, '']);
    expect(result.data.toString()).toMatch(/^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\nok\n$/);
    expect(fake.journal.entries(match('cri', 'PortForwardSessionEnded'))).toHaveLength(1);
  });

  it('speaks the base64 variant too', async () => {
    const { cri, podSandboxId } = await running(['sh', '-c', 'sleep 3600'], [{ key: 'FAKE_HTTP_PORTS', value: '8080' }]);
    const { url } = await cri.portForward({ podSandboxId, port: [8080] });
    const result = await runPortForward(url, 'GET / HTTP/1.0\r\n\r\n', { protocols: ['v4.base64.channel.k8s.io'], timeoutMs: 10_000 });
    expect(result.protocol).toBe('v4.base64.channel.k8s.io');
    expect(result.data.toString()).toMatch(/^HTTP\/1\.[01] 200 OK/);
  });

  it('reports a closed port on the error channel with the port and the runtime error', async () => {
    const { cri, podSandboxId } = await running(['sh', '-c', 'sleep 3600']);
    const { url } = await cri.portForward({ podSandboxId, port: [9] });
    const result = await runPortForward(url, 'x', { timeoutMs: 10_000 });
    expect(result.errorPort).toBe(9);
    expect(result.error).toMatch(new RegExp(`^error forwarding port 9 to pod ${podSandboxId}, uid : failed to connect to localhost:9 inside namespace .*connect: connection refused$`));
    expect(result.data.length).toBe(0);
  });

  it('refuses an unknown or stopped sandbox, a token used twice and a remote-command subprotocol', async () => {
    const { cri, podSandboxId } = await running(['sh', '-c', 'sleep 3600'], [{ key: 'FAKE_HTTP_PORTS', value: '8080' }]);
    expect(await kindOf(cri.portForward({ podSandboxId: 'nope', port: [80] }))).toMatch(/^NotFound: /);
    expect(await kindOf(cri.portForward({ podSandboxId: '', port: [80] }))).toBe('InvalidArgument: pod_sandbox_id is required');
    const { url } = await cri.portForward({ podSandboxId, port: [8080] });
    const refused = await runPortForward(url, '', { protocols: ['v5.channel.k8s.io'] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).statusCode).toBe(403);
    // The refused handshake spent the token.
    expect(((await runPortForward(url, '').catch((e: unknown) => e)) as UpgradeRefused).statusCode).toBe(404);
    await cri.stopPodSandbox({ podSandboxId });
    expect(await kindOf(cri.portForward({ podSandboxId, port: [80] }))).toBe('Unknown: sandbox container is not running');
  });
});

/** A SPDY/3.1 port-forward client as kubectl's: headers deflated with the SPDY dictionary, one zlib stream, sync-flushed. */
async function spdyForward(url: string, port: number, send: string, protocols = 'portforward.k8s.io'): Promise<{ answer: string; replies: number[]; data: string; error: string; fins: number[] }> {
  const { hostname, port: serverPort, pathname } = new URL(url);
  const compressor = new HeaderCompressor();
  const synStream = async (streamId: number, type: string): Promise<Buffer> => {
    const ids = Buffer.alloc(10);
    ids.writeUInt32BE(streamId, 0);
    const headers = new Map([['streamtype', [type]], ['port', [String(port)]], ['requestid', ['0']]]);
    return controlFrame(SYN_STREAM, 0, Buffer.concat([ids, await compressor.compress(encodeHeaderBlock(headers))]));
  };
  const socket = connect(Number(serverPort), hostname);
  await new Promise((r) => socket.once('connect', r));
  socket.write(`POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocols}\r\nContent-Length: 0\r\n\r\n`);
  let raw = Buffer.alloc(0);
  let answer = '';
  const reader = new FrameReader();
  const inflater = new HeaderInflater();
  const result = { replies: [] as number[], data: '', error: '', fins: [] as number[] };
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      let bytes = chunk;
      if (!answer) {
        raw = Buffer.concat([raw, chunk]);
        const end = raw.indexOf('\r\n\r\n');
        if (end < 0) return;
        answer = raw.subarray(0, end).toString();
        bytes = raw.subarray(end + 4);
      }
      for (const frame of reader.push(bytes)) {
        if (frame.control && frame.type === SYN_REPLY) {
          expect(decodeHeaderBlock(inflater.inflate(frame.payload.subarray(4))).size).toBe(0);
          result.replies.push(frame.payload.readUInt32BE(0));
        } else if (!frame.control) {
          if (frame.streamId === 3) result.data += frame.payload.toString();
          else result.error += frame.payload.toString();
          if (frame.flags & 1) result.fins.push(frame.streamId);
          if (result.fins.length === 2) resolve();
        }
      }
    });
    socket.on('close', () => resolve());
  });
  if (protocols.includes('portforward.k8s.io')) {
    socket.write(await synStream(1, 'error'));
    socket.write(dataFrame(1, Buffer.alloc(0), true));
    socket.write(await synStream(3, 'data'));
    socket.write(dataFrame(3, Buffer.from(send)));
  }
  await done;
  socket.destroy();
  compressor.close();
  return { answer, ...result };
}

describe('SPDY port-forward on the fake runtime (what kubectl port-forward speaks)', () => {
  it('answers 101 with the protocol, replies to both streams and joins the data stream to the pod port', async () => {
    const { cri, podSandboxId, fake } = await running(['sh', '-c', 'sleep 3600'], [{ key: 'FAKE_HTTP_PORTS', value: '8080' }]);
    const { url } = await cri.portForward({ podSandboxId, port: [] });
    const result = await spdyForward(url, 8080, 'GET / HTTP/1.0\r\n\r\n');
    expect(result.answer).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*X-Stream-Protocol-Version: portforward\.k8s\.io/);
    expect(result.replies).toEqual([1, 3]);
    expect(result.data).toMatch(/^HTTP\/1\.[01] 200 OK[\s\S]*\r\n\r\nok\n$/);
    expect([result.error, result.fins.sort()]).toEqual(['', [1, 3]]);
    await fake.journal.waitFor(match('cri', 'PortForwardSessionEnded'), AbortSignal.timeout(5_000));
  });

  it('writes a closed port on the error stream, and refuses a client without the protocol', async () => {
    const { cri, podSandboxId } = await running(['sh', '-c', 'sleep 3600']);
    const refused = await spdyForward((await cri.portForward({ podSandboxId })).url, 9, 'x');
    expect(refused.error).toMatch(/^error forwarding port 9 to pod .*connect: connection refused$/);
    expect(refused.data).toBe('');
    const other = await spdyForward((await cri.portForward({ podSandboxId })).url, 9, 'x', 'v4.channel.k8s.io');
    expect(other.answer).toMatch(/^HTTP\/1\.1 403 Forbidden/);
  });
});

describe('SPDY frames', () => {
  it('split a byte stream at frame boundaries whatever the chunking', () => {
    const bytes = Buffer.concat([dataFrame(3, Buffer.from('hello')), controlFrame(SYN_REPLY, 0, Buffer.from([0, 0, 0, 1])), dataFrame(5, Buffer.alloc(0), true)]);
    for (const cut of [1, 7, 8, 13, bytes.length - 1]) {
      const reader = new FrameReader();
      const frames = [...reader.push(bytes.subarray(0, cut)), ...reader.push(bytes.subarray(cut))];
      expect(frames.map((f) => (f.control ? `c${f.type}` : `d${f.streamId}:${f.payload.toString()}:${f.flags}`))).toEqual(['d3:hello:0', 'c2', 'd5::1']);
    }
  });

  it('header blocks survive the stored-block deflater and the dictionary inflater across a connection', () => {
    const deflater = new HeaderDeflater();
    const inflater = new HeaderInflater();
    const blocks = [new Map([['streamtype', ['data']], ['port', ['80']]]), new Map<string, string[]>(), new Map([['x', ['a', 'b']]])];
    for (const block of blocks) expect(decodeHeaderBlock(inflater.inflate(deflater.deflate(encodeHeaderBlock(block))))).toEqual(block);
    expect(() => decodeHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0]))).toThrow('truncated SPDY header block');
  });
});
