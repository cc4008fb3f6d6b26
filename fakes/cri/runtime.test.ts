import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { Journal, match } from '../journal/journal.js';
import { Code, CriError } from './errors.js';
import { FakeRuntime, type FakeRuntimeOptions } from './runtime.js';

const runtimes: FakeRuntime[] = [];
afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.reset();
});

function setup(options: Partial<FakeRuntimeOptions> = {}) {
  const clock = new VirtualClock();
  const journal = new Journal(clock);
  const rt = new FakeRuntime({ clock, journal, ...options });
  runtimes.push(rt);
  rt.images.pull('busybox', 0);
  rt.images.pull('example.com/app:1', 0);
  let n = 0;
  const sandbox = (labels: Record<string, string> = {}): string =>
    rt.runPodSandbox({
      config: { metadata: { name: `pod${++n}`, uid: `uid${n}`, namespace: 'ns', attempt: 0 }, labels, annotations: {}, hostname: '', logDirectory: '', dnsConfig: null, portMappings: [], linux: null, windows: null },
      runtimeHandler: '',
    } as never).podSandboxId as string;
  const container = (
    podSandboxId: string,
    spec: { name?: string; attempt?: number; image?: string; command?: string[]; env?: Record<string, string>; labels?: Record<string, string>; memoryLimit?: number },
  ): string =>
    rt.createContainer({
      podSandboxId,
      config: {
        metadata: { name: spec.name ?? 'c', attempt: spec.attempt ?? 0 },
        image: { image: spec.image ?? 'busybox' },
        command: spec.command ?? [],
        args: [],
        envs: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value: Buffer.from(value) })),
        labels: spec.labels ?? {},
        annotations: {},
        mounts: [],
        logPath: '',
        workingDir: '',
        linux: spec.memoryLimit ? { resources: { memoryLimitInBytes: String(spec.memoryLimit) } } : null,
      },
      sandboxConfig: null,
    } as never).containerId as string;
  const status = (containerId: string) => rt.containerStatus({ containerId, verbose: false }).status as Record<string, unknown>;
  const start = (containerId: string) => rt.startContainer({ containerId });
  return { clock, journal, rt, sandbox, container, status, start };
}

function codeOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof CriError) return err.code;
    throw err;
  }
}

describe('the fake runtime model', () => {
  it('gives objects created in the same virtual instant strictly increasing creation times', () => {
    const { sandbox, container, status } = setup();
    const pod = sandbox();
    const ids = [container(pod, { name: 'a' }), container(pod, { name: 'b' }), container(pod, { name: 'c' })];
    const created = ids.map((id) => BigInt(status(id)['createdAt'] as string));
    expect(created[0]! < created[1]! && created[1]! < created[2]!).toBe(true);
  });

  it('makes StopContainer wait the full grace period for a PID 1 that ignores SIGTERM, then SIGKILLs it', async () => {
    const { clock, journal, sandbox, container, status, start, rt } = setup();
    const id = container(sandbox(), { command: ['sleep', '600'] });
    start(id);
    let stopped = false;
    const stopping = rt.stopContainer({ containerId: id, timeout: '30' }).then(() => (stopped = true));
    await clock.advance(29_999);
    expect(stopped).toBe(false);
    expect(status(id).state).toBe('CONTAINER_RUNNING');
    await clock.advance(1);
    await stopping;
    expect(status(id)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137, reason: 'Error' });
    const signals = journal.entries(match('cri', 'ContainerSignalled', { containerId: id })).map((e) => e.response);
    expect(signals).toEqual([{ signal: 'TERM', outcome: 'ignored' }, { signal: 'KILL', outcome: 'terminated' }]);
  });

  it('lets a trapped SIGTERM end the container at once with its own exit code', async () => {
    const { clock, sandbox, container, status, start, rt } = setup();
    const id = container(sandbox(), { command: ['sh', '-c', "trap 'exit 0' TERM; sleep 600 & wait"] });
    start(id);
    await clock.advance(1_000);
    const stopping = rt.stopContainer({ containerId: id, timeout: '30' });
    await clock.advance(1);
    await stopping;
    expect(status(id)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed' });
    expect(BigInt(status(id).finishedAt as string) - BigInt(status(id).startedAt as string)).toBe(1_000_000_000n);
  });

  it('exits by itself with FAKE_EXIT_CODE after FAKE_EXIT_AFTER, and every attempt of a crash loop fails', async () => {
    const { clock, journal, sandbox, container, status, start } = setup();
    const pod = sandbox();
    const id = container(pod, { image: 'example.com/app:1', env: { FAKE_EXIT_CODE: '3', FAKE_EXIT_AFTER: '10s' } });
    start(id);
    await clock.advance(9_999);
    expect(status(id).state).toBe('CONTAINER_RUNNING');
    await clock.advance(1);
    expect(status(id)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error' });
    expect(journal.last(match('cri', 'ContainerExited', { containerId: id }))?.response).toEqual({ exitCode: 3, reason: 'Error' });

    for (const attempt of [0, 1, 2]) {
      const c = container(pod, { name: 'loop', attempt, image: 'example.com/app:1', env: { FAKE_CRASH_LOOP: '2s' } });
      start(c);
      await clock.advance(2_000);
      expect(status(c)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 1 });
    }
  });

  it('OOM-kills when scripted memory exceeds the limit, and a raised limit (UpdateContainerResources) prevents it', async () => {
    const { clock, rt, sandbox, container, status, start } = setup();
    const pod = sandbox();
    const env = { FAKE_MEMORY_SCHEDULE: '10Mi for 5s then 300Mi' };
    const a = container(pod, { name: 'a', image: 'example.com/app:1', env, memoryLimit: 256 * 2 ** 20 });
    const b = container(pod, { name: 'b', image: 'example.com/app:1', env, memoryLimit: 256 * 2 ** 20 });
    start(a);
    start(b);
    const stats = rt.containerStatsOf({ containerId: a }).stats as { memory: { workingSetBytes: { value: string } } };
    expect(stats.memory.workingSetBytes.value).toBe(String(10 * 2 ** 20));
    rt.updateContainerResources({ containerId: b, linux: { memoryLimitInBytes: String(512 * 2 ** 20) } } as never);
    await clock.advance(5_000);
    expect(status(a)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137, reason: 'OOMKilled' });
    expect(status(b)).toMatchObject({ state: 'CONTAINER_RUNNING', resources: { linux: { memoryLimitInBytes: String(512 * 2 ** 20) } } });
    const bStats = rt.containerStatsOf({ containerId: b }).stats as { memory: { workingSetBytes: { value: string } } };
    expect(bStats.memory.workingSetBytes.value).toBe(String(300 * 2 ** 20));
  });

  it('runs image defaults: a busybox without command exits 0 at once, an app image serves until stopped and exits 0 on SIGTERM', async () => {
    const { clock, rt, sandbox, container, status, start } = setup();
    const pod = sandbox();
    const shell = container(pod, { name: 'bb' });
    const app = container(pod, { name: 'app', image: 'example.com/app:1' });
    start(shell);
    start(app);
    await clock.advance(1);
    expect(status(shell)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed' });
    await clock.advance(3_600_000);
    expect(status(app).state).toBe('CONTAINER_RUNNING');
    const stopping = rt.stopContainer({ containerId: app, timeout: '30' });
    await clock.advance(1);
    await stopping;
    expect(status(app)).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('filters lists by id prefix, sandbox, state and labels', async () => {
    const { rt, sandbox, container, start, clock } = setup();
    const p1 = sandbox({ app: 'a' });
    const p2 = sandbox({ app: 'b' });
    const c1 = container(p1, { name: 'x', command: ['sleep', '60'], labels: { tier: 'web' } });
    const c2 = container(p2, { name: 'y', command: ['sleep', '60'], labels: { tier: 'db' } });
    start(c1);
    await clock.advance(1);
    const ids = (filter: object) => (rt.listContainers({ filter } as never).containers as { id: string }[]).map((c) => c.id);
    expect(ids({ podSandboxId: p1.slice(0, 12) })).toEqual([c1]);
    expect(ids({ id: c2.slice(0, 10) })).toEqual([c2]);
    expect(ids({ state: { state: 'CONTAINER_CREATED' } })).toEqual([c2]);
    expect(ids({ labelSelector: { tier: 'web' } })).toEqual([c1]);
    expect(ids({ labelSelector: { tier: 'web', other: 'x' } })).toEqual([]);
    const pods = (filter: object) => (rt.listPodSandbox({ filter } as never).items as { id: string }[]).map((s) => s.id);
    expect(pods({ labelSelector: { app: 'b' } })).toEqual([p2]);
    expect(pods({ state: { state: 'SANDBOX_NOTREADY' } })).toEqual([]);
  });

  it('answers missing and out-of-state objects with containerd codes', async () => {
    const { rt, sandbox, container, start, clock } = setup();
    const pod = sandbox();
    const id = container(pod, { command: ['sleep', '1'] });
    expect(codeOf(() => rt.containerStatus({ containerId: 'nope', verbose: false }))).toBe(Code.NOT_FOUND);
    expect(codeOf(() => rt.reopenContainerLog({ containerId: id }))).toBe(Code.UNKNOWN);
    await expect(rt.stopContainer({ containerId: 'nope', timeout: '0' })).rejects.toMatchObject({ code: Code.NOT_FOUND });
    await expect(rt.removeContainer({ containerId: 'nope' })).resolves.toEqual({});
    await expect(rt.stopContainer({ containerId: id, timeout: '10' })).resolves.toEqual({});
    start(id);
    await clock.advance(1_000);
    expect(codeOf(() => rt.startContainer({ containerId: id }))).toBe(Code.UNKNOWN);
    expect(codeOf(() => rt.createContainer({ podSandboxId: pod, config: { metadata: { name: 'z', attempt: 0 }, image: { image: 'never-pulled:1' } } } as never))).toBe(Code.NOT_FOUND);
    expect(codeOf(() => rt.createContainer({ podSandboxId: pod, config: { metadata: { name: 'bad', attempt: 0 }, image: { image: 'busybox' }, envs: [{ key: 'FAKE_EXIT_AFTER', value: 'soon' }] } } as never))).toBe(
      Code.INVALID_ARGUMENT,
    );
    const lenient = setup({ stopMissing: 'ok' });
    await expect(lenient.rt.stopPodSandbox({ podSandboxId: 'nope' })).resolves.toEqual({});
  });

  it('reports stats that grow with running time and writes to the container file system', async () => {
    const { rt, clock, sandbox, container, start } = setup();
    const pod = sandbox();
    const id = container(pod, { command: ['sh', '-c', 'echo 0123456789 > /tmp/data; sleep 600'], env: { FAKE_CPU_NANOCORES: '500000000' } });
    start(id);
    await clock.advance(2_000);
    const s = rt.containerStatsOf({ containerId: id }).stats as { cpu: { usageCoreNanoSeconds: { value: string } }; writableLayer: { usedBytes: { value: string } } };
    expect(s.cpu.usageCoreNanoSeconds.value).toBe(String(1_000_000_000));
    expect(Number(s.writableLayer.usedBytes.value)).toBeGreaterThanOrEqual(11);
    const pss = rt.podSandboxStats({ podSandboxId: pod }).stats as { linux: { process: { processCount: { value: string } }; containers: unknown[] } };
    expect(pss.linux.process.processCount.value).toBe('2');
    expect(pss.linux.containers).toHaveLength(1);
  });

  it('removes a sandbox with its containers and frees names for reuse', async () => {
    const { rt, sandbox, container, start, clock, status } = setup();
    const pod = sandbox();
    const id = container(pod, { command: ['sleep', '600'] });
    start(id);
    await rt.stopPodSandbox({ podSandboxId: pod });
    expect(status(id)).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
    await rt.removePodSandbox({ podSandboxId: pod });
    expect(rt.containerIds()).toEqual([]);
    expect(rt.sandboxIds()).toEqual([]);
    await clock.advance(1);
    expect(() => rt.runPodSandbox({ config: { metadata: { name: 'pod1', uid: 'uid1', namespace: 'ns', attempt: 0 } }, runtimeHandler: '' } as never)).not.toThrow();
  });

  it('reports image filesystem usage from the images, or as scripted', () => {
    const { rt } = setup();
    const usage = () => (rt.imageFsInfo().imageFilesystems as { usedBytes: { value: string } }[])[0]!.usedBytes.value;
    expect(usage()).toBe(String(rt.images.totalBytes()));
    rt.setImageFsUsage(50 * 2 ** 30);
    expect(usage()).toBe(String(50 * 2 ** 30));
    rt.setImageFsUsage(null);
    expect(usage()).toBe(String(rt.images.totalBytes()));
    expect(() => rt.setImageFsUsage(-1)).toThrow(RangeError);
  });

  it('has the log file in place when StartContainer answers, and leaves none for a container that never started', async () => {
    const { rt } = setup();
    const logDirectory = mkdtempSync(join(tmpdir(), 'fake-cri-rt-'));
    try {
      const sandboxConfig = { metadata: { name: 'logs', uid: 'uid-logs', namespace: 'ns', attempt: 0 }, logDirectory };
      const pod = rt.runPodSandbox({ config: sandboxConfig, runtimeHandler: '' } as never).podSandboxId as string;
      const create = (name: string): string =>
        rt.createContainer({ podSandboxId: pod, config: { metadata: { name, attempt: 0 }, image: { image: 'busybox' }, command: ['echo', 'hi'], logPath: `${name}/0.log` }, sandboxConfig } as never)
          .containerId as string;
      const started = create('started');
      rt.startContainer({ containerId: started });
      expect(existsSync(join(logDirectory, 'started/0.log'))).toBe(true);
      await rt.removeContainer({ containerId: create('idle') });
      expect(existsSync(join(logDirectory, 'idle/0.log'))).toBe(false);
      expect(readFileSync(join(logDirectory, 'started/0.log'), 'utf8')).toMatch(/^\S+ stdout F hi\n$/);
    } finally {
      rmSync(logDirectory, { recursive: true, force: true });
    }
  });

  it('journals a plain `sleep` container (run without the shell interpreter) as one running `sh -c "sleep N"`: same events, times and exits', async () => {
    const lifecycle = async (command: string[]) => {
      const { clock, journal, sandbox, container, start, rt } = setup();
      const pod = sandbox();
      const runsOut = container(pod, { name: 'runs-out', command: [...command.slice(0, -1), command.at(-1)!.replace('N', '2')] });
      const stopped = container(pod, { name: 'stopped', command: [...command.slice(0, -1), command.at(-1)!.replace('N', '600')] });
      const killed = container(pod, { name: 'killed', command: [...command.slice(0, -1), command.at(-1)!.replace('N', '600')] });
      start(runsOut);
      start(stopped);
      start(killed);
      await clock.advance(1_000);
      const grace = rt.stopContainer({ containerId: stopped, timeout: '5' });
      await clock.advance(500);
      await rt.stopContainer({ containerId: killed, timeout: '0' });
      await clock.advance(10_000);
      await grace;
      await rt.stopPodSandbox({ podSandboxId: pod });
      const name = new Map([[runsOut, 'runs-out'], [stopped, 'stopped'], [killed, 'killed']]);
      return journal
        .entries((e) => e.source === 'cri' && e.kind === 'event' && e.name.startsWith('Container'))
        .map((e) => ({ name: e.name, t: e.t, container: name.get(e.subject.containerId ?? ''), detail: e.response }));
    };
    const plain = await lifecycle(['sleep', 'N']);
    const shell = await lifecycle(['sh', '-c', 'sleep N']);
    expect(plain).toEqual(shell);
    expect(plain.filter((e) => e.name === 'ContainerExited').map((e) => [e.container, e.t, e.detail])).toEqual([
      ['killed', 1_500, { exitCode: 137, reason: 'Error' }],
      ['runs-out', 2_000, { exitCode: 0, reason: 'Completed' }],
      ['stopped', 6_000, { exitCode: 137, reason: 'Error' }],
    ]);
  });
});
