import assert from 'node:assert/strict';
import { runSpdyExec, type SpdyExecResult } from '../../fakes/cri/streaming-spdy-client.js';
import { UpgradeRefused } from '../../fakes/cri/streaming-client.js';
import type { StreamType } from '../../fakes/cri/spdy/remotecommand-protocol.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { runSandbox, startContainer, waitForContainerState, type SandboxHandle } from './support.js';

/**
 * Streaming Exec and Attach at the CRI level over SPDY/3.1, as client-go's SPDY executor speaks it
 * (crictl exec/attach before 1.30, a kubelet proxying an API server's exec): the
 * X-Stream-Protocol-Version handshake (v4 chosen from client-go's list), one stream per standard
 * stream, stdin ended by half-closing its stream, and the outcome on the error stream.
 *
 * Only what a client can rely on is asserted: the bytes per stream, which streams were answered,
 * half-closed and reset, and the GOAWAY. The order of the stdout and stderr frames (their SYN_REPLY,
 * data and FIN: containerd 1.6.20 answered stderr's SYN_REPLY first in one run), and how output is cut
 * into data frames, follow containerd's goroutines and are left open (the fake writes in program
 * order; fakes/cri/README.md).
 */

const sorted = (types: readonly StreamType[]): StreamType[] => [...types].sort();

/** The connection as a client sees it end: every opened stream answered, and the session closed with GOAWAY. */
function assertSessionShape(ctx: SpecContext, result: SpdyExecResult, opened: readonly StreamType[], halfClosed: readonly StreamType[]): void {
  ctx.log(`frames: ${result.trace.join(', ')}`);
  assert.equal(result.protocol, 'v4.channel.k8s.io', "the server chooses v4, the first of client-go's offer it speaks");
  assert.deepEqual(sorted(result.replied), sorted(opened), 'every stream the client opened is answered with SYN_REPLY');
  assert.deepEqual(sorted(result.finished), sorted(halfClosed), 'the output streams are half-closed (FIN) once the process ended');
  assert.deepEqual(sorted(result.reset), sorted(opened.filter((t) => !halfClosed.includes(t))), 'every stream not half-closed is reset');
  assert.ok(result.goAway, 'the server ends the connection with GOAWAY');
}

async function runningContainer(ctx: SpecContext): Promise<string> {
  const sandbox = await runSandbox(ctx);
  const container = await startContainer(ctx, sandbox, { command: ['sh', '-c', 'echo from-main > /tmp/mark; sleep 3600'] });
  await waitForContainerState(ctx, container.id, 'CONTAINER_RUNNING');
  return container.id;
}

/**
 * A started container whose main program reads stdin (the pod spec's `stdin: true, stdinOnce: true`,
 * as `kubectl run -i` makes): the end of the first attached client's input closes it.
 */
async function stdinContainer(ctx: SpecContext, sandbox: SandboxHandle, command: readonly string[]): Promise<string> {
  const container = await startContainer(ctx, sandbox, { command, stdin: true, stdinOnce: true });
  await waitForContainerState(ctx, container.id, 'CONTAINER_RUNNING');
  return container.id;
}

export const execSpdySuite = defineSuite('cri/exec-spdy', [
  {
    title: 'Exec over SPDY/3.1 carries stdout and stderr on their streams and a non-zero exit as a v4 Status with an ExitCode cause',
    run: async (ctx) => {
      const id = await runningContainer(ctx);
      // The main program's file on stderr, then stdout: each stream keeps its own bytes whatever the interleaving.
      const cmd = ['sh', '-c', 'cat /tmp/mark >&2; echo to-stdout; exit 7'];
      const { url } = await ctx.cri.exec({ containerId: id, cmd, stdout: true, stderr: true });
      const result = await runSpdyExec(url, { timeoutMs: 20_000 });
      const failure = `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code 7`;
      assert.deepEqual(
        { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, status: result.status },
        {
          stdout: 'to-stdout\n',
          stderr: 'from-main\n',
          exitCode: 7,
          status: { metadata: {}, status: 'Failure', message: failure, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } },
        },
      );
      assertSessionShape(ctx, result, ['error', 'stdout', 'stderr'], ['stdout', 'stderr']);
      // The token is spent before the upgrade is looked at, so SPDY gets the same 404 as a WebSocket.
      const again = await runSpdyExec(url, { timeoutMs: 20_000 }).then(
        () => 'upgraded',
        (err: unknown) => (err instanceof UpgradeRefused ? err.statusCode : String(err)),
      );
      assert.equal(again, 404, 'a spent streaming URL is not found');
    },
  },
  {
    title: "Exec over SPDY/3.1 feeds the stdin stream to the command until the client half-closes it, and reports Success",
    run: async (ctx) => {
      const id = await runningContainer(ctx);
      // cat ends only when its input does: the stderr line after it shows that the half-close ended stdin.
      const cmd = ['sh', '-c', 'cat; echo stdin-closed >&2'];
      const { url } = await ctx.cri.exec({ containerId: id, cmd, stdin: true, stdout: true, stderr: true });
      const result = await runSpdyExec(url, { stdin: 'first line\nsecond line\n', timeoutMs: 20_000 });
      assert.deepEqual(
        { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, status: result.status },
        { stdout: 'first line\nsecond line\n', stderr: 'stdin-closed\n', exitCode: 0, status: { metadata: {}, status: 'Success' } },
      );
      assertSessionShape(ctx, result, ['error', 'stdin', 'stdout', 'stderr'], ['stdout', 'stderr']);
    },
  },
  {
    title: "Attach over SPDY/3.1 feeds the main program's stdin and streams its output until the container exits, then reports Success",
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      // With stdinOnce the end of the attached client's input closes cat's stdin, so the container exits.
      const id = await stdinContainer(ctx, sandbox, ['sh', '-c', 'cat; echo main-done >&2']);
      const { url } = await ctx.cri.attach({ containerId: id, stdin: true, stdout: true, stderr: true });
      assert.match(url, /^http:\/\/[^/]+\/attach\/[A-Za-z0-9_-]+$/, `the streaming URL: ${url}`);
      const result = await runSpdyExec(url, { stdin: 'to the main program\n', timeoutMs: 20_000 });
      assert.deepEqual(
        { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, status: result.status },
        { stdout: 'to the main program\n', stderr: 'main-done\n', exitCode: 0, status: { metadata: {}, status: 'Success' } },
      );
      assertSessionShape(ctx, result, ['error', 'stdin', 'stdout', 'stderr'], ['stdout', 'stderr']);
      const exited = await waitForContainerState(ctx, id, 'CONTAINER_EXITED');
      assert.equal(exited.exitCode, 0, 'the main program ended with its input');
    },
  },
]);
