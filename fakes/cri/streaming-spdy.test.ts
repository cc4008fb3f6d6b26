import { connect } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { Journal, match } from '../journal/journal.js';
import { controlFrame, dataFrame, encodeHeaderBlock, GOAWAY, PING, RST_STREAM, SETTINGS, SYN_STREAM, WINDOW_UPDATE } from './spdy/frames.js';
import { runChannelExec, UpgradeRefused } from './streaming-client.js';
import { startStreamingServer, type ExecRunner } from './streaming-server.js';
import { HeaderCompressor, runSpdyExec } from './streaming-spdy-client.js';
import { STREAM_CREATION_TIMEOUT_MS } from './streaming-spdy.js';
import { rawAnswer, useRunningContainer } from './streaming-test-support.js';

const running = useRunningContainer();

describe('SPDY exec on the fake runtime (client-go SPDY executor, crictl before 1.30)', () => {
  it('runs the command with stdout, stderr and a v4 Status carrying the exit code, then closes the streams in the order containerd does', async () => {
    const { fake, cri, containerId } = await running();
    const cmd = ['sh', '-c', 'cat /tmp/greeting; echo oops >&2; exit 3'];
    const { url } = await cri.exec({ containerId, cmd, stdout: true, stderr: true });
    const result = await runSpdyExec(url);
    expect(result).toMatchObject({ protocol: 'v4.channel.k8s.io', stdout: 'hello\n', stderr: 'oops\n', exitCode: 3, goAway: true });
    // The same Status as over WebSocket (containerd's wording, checked in streaming-server.test.ts).
    const overWebSocket = await runChannelExec((await cri.exec({ containerId, cmd, stdout: true, stderr: true })).url);
    expect(result.status).toEqual(overWebSocket.status);
    expect(result.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    expect(result.replied).toEqual(['error', 'stdout', 'stderr']);
    // Outputs half-closed, the Status (272 bytes as containerd 1.6.20 sends it: Go's JSON escapes `>&`),
    // then the error stream reset and GOAWAY.
    expect(result.trace.filter((t) => !/^(reply|data std)/.test(t))).toEqual(['fin stdout', 'fin stderr', 'data error 272', 'reset error', 'goaway']);
    expect(fake.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([
      { subject: { containerId }, request: { cmd, protocol: 'SPDY/3.1+v4.channel.k8s.io' }, response: { exitCode: 3 } },
      { request: { protocol: 'v5.channel.k8s.io' } },
    ]);
    // The token is spent.
    await expect(runSpdyExec(url)).rejects.toMatchObject({ statusCode: 404, body: '404 page not found\n' });
  });

  it('feeds the stdin stream to the command until the client half-closes it', async () => {
    const { cri, containerId } = await running();
    const { url } = await cri.exec({ containerId, cmd: ['sh', '-c', 'cat > /tmp/in; cat /tmp/in; echo done'], stdin: true, stdout: true });
    const result = await runSpdyExec(url, { stdin: 'line one\nline two\n', stderr: false });
    expect(result).toMatchObject({ stdout: 'line one\nline two\ndone\n', stderr: '', exitCode: 0, status: { metadata: {}, status: 'Success' } });
    expect(result.replied).toEqual(['error', 'stdin', 'stdout']);
  });

  it('merges stderr into stdout with \\r\\n under a TTY and journals the sizes sent on the resize stream', async () => {
    const { fake, cri, containerId } = await running();
    const cmd = ['sh', '-c', 'sleep 0.2; echo a; echo b >&2'];
    const { url } = await cri.exec({ containerId, cmd, tty: true, stdout: true });
    const sizes = [
      { width: 80, height: 24 },
      { width: 132, height: 43 },
    ];
    const result = await runSpdyExec(url, { tty: true, sizes });
    expect(result).toMatchObject({ stdout: 'a\r\nb\r\n', stderr: '', exitCode: 0, replied: ['error', 'stdout', 'resize'] });
    expect(fake.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([{ request: { protocol: 'SPDY/3.1+v4.channel.k8s.io', terminalSizes: sizes } }]);
  });

  it('speaks v3, v2 and v1 as containerd does: a failure as text before v4; v1 resets its error stream before the command starts and writes on it anyway', async () => {
    const { cri, containerId } = await running();
    const cmd = ['sh', '-c', 'echo out; exit 2'];
    const message = 'command terminated with non-zero exit code: error executing command [sh -c echo out; exit 2], exit code 2';
    const exec = async () => (await cri.exec({ containerId, cmd, stdout: true })).url;
    expect(await runSpdyExec(await exec(), { protocols: ['v3.channel.k8s.io'] })).toMatchObject({ protocol: 'v3.channel.k8s.io', stdout: 'out\n', status: message, exitCode: null });
    expect(await runSpdyExec(await exec(), { protocols: ['v2.channel.k8s.io', 'channel.k8s.io'] })).toMatchObject({ protocol: 'v2.channel.k8s.io', status: message });
    // v1 (issue 13394): a client has dropped the reset error stream by the time the failure is written.
    const v1 = await runSpdyExec(await exec(), { protocols: ['channel.k8s.io'] });
    expect(v1).toMatchObject({ protocol: 'channel.k8s.io', stdout: 'out\n', status: message, reset: ['error'] });
    expect(v1.trace.indexOf('reset error')).toBeLessThan(v1.trace.indexOf('data stdout 4'));
    // v5 is not among containerd 1.6/1.7's SPDY versions: a client offering it first gets v4.
    expect(await runSpdyExec(await exec(), { protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'] })).toMatchObject({ protocol: 'v4.channel.k8s.io', exitCode: 2 });
  });

  it('refuses a missing protocol header (400), unknown versions (403, containerd writing its message twice) and a non-SPDY upgrade (400), spending the token', async () => {
    const { cri, containerId } = await running();
    const exec = async () => (await cri.exec({ containerId, cmd: ['true'], stdout: true })).url;
    const none = await exec();
    await expect(runSpdyExec(none, { protocols: [] })).rejects.toMatchObject({ statusCode: 400, body: 'unable to upgrade: X-Stream-Protocol-Version is required\n' });
    await expect(runSpdyExec(none)).rejects.toMatchObject({ statusCode: 404 });
    const unknown = (await runSpdyExec(await exec(), { protocols: ['v9.channel.k8s.io', 'v0'] }).catch((e: unknown) => e)) as UpgradeRefused;
    expect(unknown).toBeInstanceOf(UpgradeRefused);
    const line = 'unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io v0], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]\n';
    expect([unknown.statusCode, unknown.body]).toEqual([403, line + line]);
    expect(unknown.head.match(/X-Accepted-Stream-Protocol-Versions: .*/g)).toEqual([
      'X-Accepted-Stream-Protocol-Versions: v4.channel.k8s.io',
      'X-Accepted-Stream-Protocol-Versions: v3.channel.k8s.io',
      'X-Accepted-Stream-Protocol-Versions: v2.channel.k8s.io',
      'X-Accepted-Stream-Protocol-Versions: channel.k8s.io',
    ]);
    const h2c = await rawAnswer(await exec(), 'POST', 'Connection: Upgrade\r\nUpgrade: h2c\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n');
    expect(h2c).toContain('\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n');
    expect(h2c).toMatch(
      /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nunable to upgrade: missing upgrade headers in request: http\.Header\{"Connection":\[\]string\{"Upgrade"\}, "Content-Length":\[\]string\{"0"\}, "Upgrade":\[\]string\{"h2c"\}, "X-Stream-Protocol-Version":\[\]string\{"v4\.channel\.k8s\.io"\}\}\n$/,
    );
  });

  it('reports an unknown executable as an InternalError, leaving the output streams to the reset as containerd does', async () => {
    const { cri, containerId } = await running();
    const result = await runSpdyExec((await cri.exec({ containerId, cmd: ['nosuchcmd'], stdout: true, stderr: true })).url);
    expect(result).toMatchObject({ exitCode: null, stdout: '', stderr: '', status: { status: 'Failure', reason: 'InternalError', code: 500 } });
    expect(result.trace.filter((t) => !t.startsWith('reply')).map((t) => t.replace(/^data error \d+$/, 'data error'))).toEqual(['data error', 'reset error', 'reset stdout', 'reset stderr', 'goaway']);
  });

  it('kills the exec when the client goes away', async () => {
    const { fake, cri, containerId } = await running();
    const { url } = await cri.exec({ containerId, cmd: ['sleep', '3600'], stdout: true });
    await expect(runSpdyExec(url, { timeoutMs: 300 })).rejects.toThrow(/did not finish in 300 ms/);
    const ended = await fake.journal.waitFor(match('cri', 'ExecSessionEnded'), AbortSignal.timeout(5_000));
    expect(ended.request).toMatchObject({ protocol: 'SPDY/3.1+v4.channel.k8s.io' });
    // The same container still serves exec, over either transport.
    expect((await runChannelExec((await cri.exec({ containerId, cmd: ['true'], stdout: true })).url)).exitCode).toBe(0);
  });
});

describe('SPDY attach on the fake runtime', () => {
  it("streams the container's output after the attach until it exits, then reports Success", async () => {
    const { fake, cri, containerId } = await running(['sh', '-c', 'echo before; sleep 1; echo after; echo oops >&2; exit 3']);
    const { url } = await cri.attach({ containerId, stdout: true, stderr: true });
    const result = await runSpdyExec(url, { timeoutMs: 10_000 });
    expect([result.stdout, result.stderr, result.status]).toEqual(['after\n', 'oops\n', { metadata: {}, status: 'Success' }]);
    expect(fake.journal.entries(match('cri', 'AttachSessionEnded'))).toMatchObject([{ request: { protocol: 'SPDY/3.1+v4.channel.k8s.io' } }]);
  });
});

/**
 * A streaming server on a virtual clock whose exec echoes stdin to stdout, then exits (`cat`) or waits
 * until the session is aborted (`hang`); it counts the runs still going.
 */
async function scriptedServer(): Promise<{ clock: VirtualClock; journal: Journal; url: (stdin?: boolean, cmd?: 'cat' | 'hang') => string; active: () => number; runs: () => number; close: () => Promise<void> }> {
  const clock = new VirtualClock();
  const journal = new Journal(clock);
  let active = 0;
  let runs = 0;
  const run: ExecRunner = async (request, streams) => {
    runs++;
    active++;
    try {
      streams.stdout('started\n');
      for (let chunk = await streams.stdin?.read(); chunk !== null && chunk !== undefined; chunk = await streams.stdin?.read()) streams.stdout(chunk);
      if (request.cmd[0] === 'hang' && !streams.signal.aborted) await new Promise((resolve) => streams.signal.addEventListener('abort', resolve));
      return { exitCode: streams.signal.aborted ? 137 : 0 };
    } finally {
      active--;
    }
  };
  const server = await startStreamingServer({ clock, run, journal });
  return {
    clock,
    journal,
    url: (stdin = true, cmd = 'cat') => server.execUrl({ containerId: 'c', cmd: [cmd], tty: false, stdin, stdout: true, stderr: false }),
    active: () => active,
    runs: () => runs,
    close: () => server.close(),
  };
}

describe('SPDY session set-up on the streaming server', () => {
  it('starts the command only once every requested stream exists, and cuts off a client that never opens them after 30 s of clock time', async () => {
    const server = await scriptedServer();
    try {
      const pending = runSpdyExec(server.url(), { streams: ['error', 'stdout'], stdin: 'ignored' });
      while (server.clock.pendingTimers() === 0) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      expect(server.runs()).toBe(0);
      await server.clock.advance(STREAM_CREATION_TIMEOUT_MS - 1);
      expect(server.runs()).toBe(0);
      await server.clock.advance(1);
      const result = await pending;
      expect([result.goAway, result.stdout, result.replied]).toEqual([true, '', ['error', 'stdout']]);
      expect(server.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([{ response: { error: 'timed out waiting for client to create streams' } }]);
      // With all three streams the same request runs at once.
      expect(await runSpdyExec(server.url(), { stdin: 'x\n' })).toMatchObject({ stdout: 'started\nx\n', exitCode: 0 });
    } finally {
      await server.close();
    }
  });

  it('never crashes or wedges on arbitrary frames from a client: each session ends when the client leaves, and the server keeps serving', async () => {
    const server = await scriptedServer();
    const streamTypes = fc.constantFrom('error', 'stdin', 'stdout', 'stderr', 'resize', 'data', '', 'STDIN');
    const frame = fc.oneof(
      fc.record({ kind: fc.constant('syn' as const), id: fc.integer({ min: 0, max: 9 }), type: streamTypes, fin: fc.boolean() }),
      fc.record({ kind: fc.constant('data' as const), id: fc.integer({ min: 0, max: 9 }), bytes: fc.uint8Array({ maxLength: 40 }), fin: fc.boolean() }),
      fc.record({ kind: fc.constant('control' as const), type: fc.constantFrom(RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, 8, 11, 0xffff), payload: fc.uint8Array({ maxLength: 16 }) }),
      fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }) }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { maxLength: 12 }), fc.boolean(), async (frames, withStdin) => {
          const { hostname, port, pathname } = new URL(server.url(withStdin, 'hang'));
          const socket = connect(Number(port), hostname);
          const closedByServer = new Promise<boolean>((resolve) => {
            socket.once('close', () => resolve(true));
            socket.on('error', () => undefined);
          });
          await new Promise((r) => socket.once('connect', r));
          socket.write(`POST ${pathname} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n`);
          const compressor = new HeaderCompressor();
          for (const f of frames) {
            if (f.kind === 'syn') {
              const ids = Buffer.alloc(10);
              ids.writeUInt32BE(f.id, 0);
              socket.write(controlFrame(SYN_STREAM, f.fin ? 1 : 0, Buffer.concat([ids, await compressor.compress(encodeHeaderBlock(new Map([['streamtype', [f.type]]])))])));
            } else if (f.kind === 'data') socket.write(dataFrame(f.id, Buffer.from(f.bytes), f.fin));
            else if (f.kind === 'control') socket.write(controlFrame(f.type, 0, Buffer.from(f.payload)));
            else socket.write(f.bytes);
          }
          compressor.close();
          // Leave after a moment unless the server already ended the connection; every run it started must then end.
          const gone = await Promise.race([closedByServer, new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);
          if (!gone) socket.destroy();
          await closedByServer;
          for (let i = 0; i < 200 && server.active() > 0; i++) await new Promise((r) => setTimeout(r, 5));
          return server.active() === 0;
        }),
        { numRuns: 200 },
      );
      expect(server.runs()).toBeGreaterThan(0);
      expect(await runSpdyExec(server.url(), { stdin: 'still here\n' })).toMatchObject({ stdout: 'started\nstill here\n', exitCode: 0 });
    } finally {
      await server.close();
    }
  });
});
