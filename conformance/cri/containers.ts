import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import {
  containerStatus,
  createContainer,
  eventually,
  expectCriError,
  nanos,
  NANOS_PER_MS,
  parseCriLog,
  runSandbox,
  startContainer,
  waitForContainerState,
  type CriLogLine,
} from './support.js';

/** Seconds a SIGTERM-ignoring container is given by StopContainer. */
const STOP_TIMEOUT_S = 3;

async function readLog(file: string): Promise<CriLogLine[]> {
  try {
    return parseCriLog(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function runningContainer(ctx: SpecContext, command: readonly string[]): Promise<string> {
  const sandbox = await runSandbox(ctx);
  const container = await startContainer(ctx, sandbox, { command });
  await waitForContainerState(ctx, container.id, 'CONTAINER_RUNNING');
  return container.id;
}

export const containersSuite = defineSuite('cri/container', [
  {
    title: 'CreateContainer leaves a container CREATED and StartContainer makes it RUNNING',
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      const container = await createContainer(ctx, sandbox, { command: ['sleep', '3600'], labels: { role: 'sleeper' } });
      const created = await containerStatus(ctx, container.id);
      assert.equal(created.state, 'CONTAINER_CREATED');
      assert.equal(created.metadata?.name, container.name);
      assert.equal(created.labels['role'], 'sleeper');
      assert.ok(nanos(created.createdAt) > 0n, 'createdAt unset');
      assert.equal(nanos(created.startedAt), 0n, 'startedAt set before StartContainer');
      assert.equal(created.logPath, container.logFile);

      await ctx.cri.startContainer({ containerId: container.id });
      const running = await containerStatus(ctx, container.id);
      assert.equal(running.state, 'CONTAINER_RUNNING');
      assert.ok(nanos(running.startedAt) >= nanos(running.createdAt), 'startedAt before createdAt');

      const { containers } = await ctx.cri.listContainers({ filter: { podSandboxId: sandbox.id } });
      assert.deepEqual(containers.map((c) => [c.id, c.state]), [[container.id, 'CONTAINER_RUNNING']]);
    },
  },
  {
    title: 'container output lands in its log file in the CRI log format',
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      const since = ctx.target.clock.now();
      const container = await startContainer(ctx, sandbox, {
        command: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; echo second line'],
      });
      const exited = await waitForContainerState(ctx, container.id, 'CONTAINER_EXITED');
      assert.equal(exited.exitCode, 0);
      assert.equal(exited.reason, 'Completed');
      const lines = await eventually(ctx, 'three log lines', async () => {
        const parsed = await readLog(container.logFile);
        return parsed.length >= 3 ? parsed : undefined;
      });
      const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => [l.tag, l.message]);
      const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => [l.tag, l.message]);
      assert.deepEqual(stdout, [['F', 'to-stdout'], ['F', 'second line']]);
      assert.deepEqual(stderr, [['F', 'to-stderr']]);
      for (const line of lines) {
        // The runtime stamps lines as it reads them: after the start, not in the future (1 s of slack).
        assert.ok(line.timeMs >= since - 1_000 && line.timeMs <= ctx.target.clock.now() + 1_000, `timestamp ${line.timestamp} is implausible`);
      }
    },
  },
  {
    title: 'ExecSync returns stdout, stderr and the exit code',
    run: async (ctx) => {
      const id = await runningContainer(ctx, ['sleep', '3600']);
      const res = await ctx.cri.execSync({ containerId: id, cmd: ['sh', '-c', 'echo out; echo err >&2; exit 7'], timeout: 10 });
      assert.equal(res.stdout.toString(), 'out\n');
      assert.equal(res.stderr.toString(), 'err\n');
      assert.equal(res.exitCode, 7);
      const ok = await ctx.cri.execSync({ containerId: id, cmd: ['cat', '/proc/1/cmdline'], timeout: 10 });
      assert.equal(ok.exitCode, 0);
      assert.equal(ok.stdout.toString(), 'sleep\u00003600\u0000');
    },
  },
  {
    title: 'ExecSync honours its timeout',
    run: async (ctx) => {
      const id = await runningContainer(ctx, ['sleep', '3600']);
      const clock = ctx.target.clock;
      const started = clock.monotonic();
      const err = await expectCriError(ctx.cri.execSync({ containerId: id, cmd: ['sleep', '30'], timeout: 1 }), 'DeadlineExceeded');
      const elapsed = clock.monotonic() - started;
      ctx.log(`ExecSync timed out after ${Math.round(elapsed)} ms: ${err.details}`);
      assert.ok(elapsed >= 900, `ExecSync gave up after ${elapsed} ms, before its 1 s timeout`);
      assert.ok(elapsed < 10_000, `ExecSync took ${elapsed} ms with a 1 s timeout`);
      assert.equal((await containerStatus(ctx, id)).state, 'CONTAINER_RUNNING');
    },
  },
  {
    title: 'a container exiting with code 3 is EXITED with exit code 3 and a finish time',
    run: async (ctx) => {
      const sandbox = await runSandbox(ctx);
      const container = await startContainer(ctx, sandbox, { command: ['sh', '-c', 'exit 3'] });
      const status = await waitForContainerState(ctx, container.id, 'CONTAINER_EXITED');
      assert.equal(status.exitCode, 3);
      assert.equal(status.reason, 'Error');
      const created = nanos(status.createdAt);
      const started = nanos(status.startedAt);
      const finished = nanos(status.finishedAt);
      assert.ok(created > 0n && started >= created && finished >= created, `timestamps out of order: ${created} ${started} ${finished}`);
      // containerd stamps startedAt when its start call returns and finishedAt from the shim's exit event,
      // so a process that exits at once can finish a fraction of a millisecond "before" it started
      // (measured: 0.9 ms). Allow that race, nothing more.
      assert.ok(finished + 100n * NANOS_PER_MS >= started, `finishedAt ${finished} long before startedAt ${started}`);
      const now = BigInt(ctx.target.clock.now()) * NANOS_PER_MS;
      assert.ok(finished <= now + 1_000n * NANOS_PER_MS, `finishedAt ${finished} is in the future`);
    },
  },
  {
    title: 'StopContainer kills a process that ignores SIGTERM once the timeout passes, not before',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const id = await runningContainer(ctx, ['sh', '-c', "trap '' TERM; while true; do sleep 1; done"]);
      const clock = ctx.target.clock;
      const started = clock.monotonic();
      const stopping = ctx.cri.stopContainer({ containerId: id, timeout: STOP_TIMEOUT_S });
      stopping.catch(() => {});
      await clock.sleep((STOP_TIMEOUT_S * 1000) / 2, ctx.signal);
      assert.equal((await containerStatus(ctx, id)).state, 'CONTAINER_RUNNING', 'killed before the stop timeout');
      await stopping;
      const elapsed = clock.monotonic() - started;
      assert.ok(elapsed >= STOP_TIMEOUT_S * 1000 - 100, `StopContainer returned after ${elapsed} ms, before the ${STOP_TIMEOUT_S} s timeout`);
      assert.ok(elapsed < STOP_TIMEOUT_S * 1000 + 10_000, `StopContainer took ${elapsed} ms`);
      const status = await containerStatus(ctx, id);
      assert.equal(status.state, 'CONTAINER_EXITED');
      assert.equal(status.exitCode, 137, 'expected death by SIGKILL (128 + 9)');
      ctx.log(`stopped after ${Math.round(elapsed)} ms`);
    },
  },
  {
    title: 'RemoveContainer on a running container stops and removes it, and is idempotent',
    run: async (ctx) => {
      const id = await runningContainer(ctx, ['sleep', '3600']);
      // containerd (like the CRI contract) forcibly removes a running container.
      await ctx.cri.removeContainer({ containerId: id });
      await expectCriError(ctx.cri.containerStatus({ containerId: id }), 'NotFound');
      const { containers } = await ctx.cri.listContainers({ filter: { id } });
      assert.deepEqual(containers, []);
      await ctx.cri.removeContainer({ containerId: id });
    },
  },
]);
