import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { runChannelExec, UpgradeRefused, type ChannelExecResult } from '../../fakes/cri/streaming-client.js';
import { defineSuite } from '../framework/spec.js';
import { createPod, shellContainer, startAgent, waitForPod, type AgentUnderTest } from './support.js';

/**
 * `kubectl exec` through the API on every runtime: the mock API server's pods/exec proxies the
 * WebSocket upgrade to the agent's kubelet server, which calls CRI Exec and proxies on to the URL
 * the runtime returned (containerd's own streaming server on the containerd target). The client
 * offers v5 then v4, as client-go does; containerd 1.6 speaks up to v4, the fake v5.
 */

function execPath(agent: AgentUnderTest, pod: string, container: string, command: readonly string[]): string {
  const query = new URLSearchParams({ container, stdout: 'true', stderr: 'true' });
  for (const c of command) query.append('command', c);
  return `${agent.api.url}/api/v1/namespaces/${agent.namespace}/pods/${pod}/exec?${query.toString()}`;
}

async function refusal(url: string): Promise<UpgradeRefused> {
  try {
    await runChannelExec(url, { timeoutMs: 20_000 });
  } catch (err) {
    if (err instanceof UpgradeRefused) return err;
    throw err;
  }
  throw new Error(`the exec at ${url} was not refused`);
}

const appRunningSideDone = (p: V1Pod): boolean => {
  const statuses = p.status?.containerStatuses ?? [];
  return statuses.find((c) => c.name === 'app')?.state?.running !== undefined && statuses.find((c) => c.name === 'once')?.state?.terminated !== undefined;
};

export const kubeletExecSuite = defineSuite('kubelet/exec', [
  {
    title: 'pods/exec runs a command in the running container through the kubelet and the runtime streaming server: stdout, stderr, the exit status, files the container wrote, an unknown executable; a container that is not running or not in the pod is refused',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx, { port: 0 }, { serveKubeletServer: true });
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-exec');
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          restartPolicy: 'Never',
          containers: [shellContainer('app', image, 'echo written-by-app > /tmp/mark; sleep 3600'), shellContainer('once', image, 'exit 0')],
        },
      });
      await waitForPod(ctx, agent, name, 'app runs and once has finished', appRunningSideDone, 60_000);

      let result: ChannelExecResult | undefined;
      // The container's command may not have written the file by the time its status says Running.
      for (let i = 0; i < 50; i++) {
        result = await runChannelExec(execPath(agent, name, 'app', ['cat', '/tmp/mark']), { timeoutMs: 20_000 });
        if (result.exitCode === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual({ stdout: result?.stdout, exitCode: result?.exitCode }, { stdout: 'written-by-app\n', exitCode: 0 }, 'exec reads the file the container wrote');
      assert.ok(['v5.channel.k8s.io', 'v4.channel.k8s.io'].includes(result?.protocol ?? ''), `a v4+ protocol is negotiated, got ${result?.protocol}`);
      assert.deepEqual(result?.status, { metadata: {}, status: 'Success' }, 'success is a Success Status on the error channel');

      const failed = await runChannelExec(execPath(agent, name, 'app', ['sh', '-c', 'echo out; echo err >&2; exit 3']), { timeoutMs: 20_000 });
      assert.deepEqual({ stdout: failed.stdout, stderr: failed.stderr, exitCode: failed.exitCode }, { stdout: 'out\n', stderr: 'err\n', exitCode: 3 }, 'both streams and the exit code');
      assert.deepEqual(
        failed.status,
        {
          metadata: {},
          status: 'Failure',
          message: 'command terminated with non-zero exit code: error executing command [sh -c echo out; echo err >&2; exit 3], exit code 3',
          reason: 'NonZeroExitCode',
          details: { causes: [{ reason: 'ExitCode', message: '3' }] },
        },
        'a non-zero exit is a NonZeroExitCode Status with the ExitCode cause',
      );

      const unknown = await runChannelExec(execPath(agent, name, 'app', ['nosuchcmd']), { timeoutMs: 20_000 });
      const internal = unknown.status as { reason?: string; code?: number; message?: string };
      assert.deepEqual([internal.reason, internal.code, unknown.exitCode], ['InternalError', 500, null], 'an unknown executable is an internal error');
      assert.match(
        String(internal.message),
        /^Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]+": OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuchcmd": executable file not found in \$PATH: unknown$/,
      );

      const notRunning = await refusal(execPath(agent, name, 'once', ['true']));
      assert.equal(notRunning.statusCode, 500, 'a container that is not running: the kubelet finds none');
      assert.match(notRunning.body, /container not found \("once"\)/);

      const notInPod = await refusal(execPath(agent, name, 'nope', ['true']));
      assert.equal(notInPod.statusCode, 400, 'a container the pod does not have is a bad request');
      assert.match(notInPod.body, /container nope is not valid for pod/);
    },
  },
]);
