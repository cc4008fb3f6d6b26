import assert from 'node:assert/strict';
import { runChannelExec, UpgradeRefused } from '../../fakes/cri/streaming-client.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { expectCriError, runSandbox, startContainer, waitForContainerState } from './support.js';

/**
 * Streaming Exec at the CRI level: the URL the runtime returns and its WebSocket stream (the channel
 * protocol v4, which containerd 1.6 and the fake both speak), and the request checks of the runtime
 * and of the kubelet streaming package it embeds.
 */

async function runningContainer(ctx: SpecContext): Promise<string> {
  const sandbox = await runSandbox(ctx);
  const container = await startContainer(ctx, sandbox, { command: ['sh', '-c', 'echo from-main > /tmp/mark; sleep 3600'] });
  await waitForContainerState(ctx, container.id, 'CONTAINER_RUNNING');
  return container.id;
}

export const execSuite = defineSuite('cri/exec', [
  {
    title: 'Exec returns a single-use streaming URL whose WebSocket carries stdout, stderr and the exit status',
    run: async (ctx) => {
      const id = await runningContainer(ctx);
      const cmd = ['sh', '-c', 'sleep 0.2; cat /tmp/mark; echo err >&2; exit 4'];
      const { url } = await ctx.cri.exec({ containerId: id, cmd, stdout: true, stderr: true });
      assert.match(url, /^http:\/\/[^/]+\/exec\/[A-Za-z0-9_-]+$/, `the streaming URL: ${url}`);
      const result = await runChannelExec(url, { protocols: ['v4.channel.k8s.io'], timeoutMs: 20_000 });
      assert.deepEqual({ stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode }, { stdout: 'from-main\n', stderr: 'err\n', exitCode: 4 });
      assert.deepEqual(result.status, {
        metadata: {},
        status: 'Failure',
        message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code 4`,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '4' }] },
      });
      try {
        await runChannelExec(url, { protocols: ['v4.channel.k8s.io'], timeoutMs: 20_000 });
        assert.fail('a spent streaming URL still worked');
      } catch (err) {
        assert.ok(err instanceof UpgradeRefused, `a spent URL is refused, got ${String(err)}`);
        assert.equal(err.statusCode, 404, 'a spent URL is not found');
      }
    },
  },
  {
    title: 'Exec refuses a TTY with stderr, a request with no stream, an unknown and a stopped container',
    run: async (ctx) => {
      const id = await runningContainer(ctx);
      const tty = await expectCriError(ctx.cri.exec({ containerId: id, cmd: ['true'], tty: true, stdout: true, stderr: true }), 'InvalidArgument');
      assert.match(tty.details, /tty and stderr cannot both be true/);
      const none = await expectCriError(ctx.cri.exec({ containerId: id, cmd: ['true'] }), 'InvalidArgument');
      assert.match(none.details, /one of stdin, stdout, or stderr must be set/);
      const unknown = await expectCriError(ctx.cri.exec({ containerId: 'kh-no-such-container', cmd: ['true'], stdout: true }), 'NotFound');
      assert.match(unknown.details, /failed to find container "kh-no-such-container" in store: not found/);
      await ctx.cri.stopContainer({ containerId: id, timeout: 0 });
      const stopped = await expectCriError(ctx.cri.exec({ containerId: id, cmd: ['true'], stdout: true }), 'Unknown');
      assert.match(stopped.details, /container is in CONTAINER_EXITED state/);
    },
  },
]);
