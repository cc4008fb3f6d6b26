import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { match } from '../journal/journal.js';
import { kindOf, useFakeCriWithClient } from './fake-cri-test-support.js';

const setup = useFakeCriWithClient();

function sandboxConfig(name: string, logDirectory: string, extra: Record<string, unknown> = {}) {
  return { metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 }, hostname: name, logDirectory, ...extra };
}

describe('the fake CRI server', () => {
  it('answers Version on a unix socket only its owner can use', async () => {
    const { fake, cri } = await setup();
    const v = await cri.version({ version: 'v1' });
    expect(v).toMatchObject({ runtimeName: 'fake-cri', runtimeApiVersion: 'v1' });
    expect(statSync(fake.socketPath).mode & 0o777).toBe(0o600);
    expect(fake.journal.entries(match('cri', 'Version'))).toHaveLength(1);
  });

  it('runs a pod through its lifecycle with real logs, exec probes and containerd-like codes', async () => {
    const { fake, cri, logDir } = await setup();
    await cri.pullImage({ image: { image: 'busybox' } });
    const config = sandboxConfig('web', logDir);
    const { podSandboxId } = await cri.runPodSandbox({ config });
    expect(await kindOf(cri.runPodSandbox({ config }))).toMatch(/^Unknown: failed to reserve sandbox name/);
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'app', attempt: 0 },
        image: { image: 'busybox' },
        command: ['sh', '-c', 'echo started; touch /tmp/healthy; sleep 0.3; rm -f /tmp/healthy; sleep 600'],
        logPath: 'app/0.log',
      },
    });
    expect(
      await kindOf(
        cri.createContainer({ podSandboxId, sandboxConfig: config, config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } } }),
      ),
    ).toMatch(/^Unknown: failed to reserve container name/);
    await cri.startContainer({ containerId });
    expect(await kindOf(cri.startContainer({ containerId }))).toMatch(/container is in CONTAINER_RUNNING state/);
    const probe = () => cri.execSync({ containerId, cmd: ['cat', '/tmp/healthy'], timeout: 1 });
    expect((await probe()).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const failed = await probe();
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr.toString()).toContain("can't open '/tmp/healthy'");

    await cri.stopContainer({ containerId, timeout: 0 });
    const { status } = await cri.containerStatus({ containerId });
    expect(status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137, reason: 'Error', logPath: join(logDir, 'app/0.log') });
    expect(readFileSync(join(logDir, 'app/0.log'), 'utf8')).toMatch(/^\S+Z stdout F started\n$/);
    expect(await kindOf(cri.execSync({ containerId, cmd: ['true'], timeout: 1 }))).toMatch(/^Unknown: .*container is in CONTAINER_EXITED state/);

    await cri.stopPodSandbox({ podSandboxId });
    expect(await kindOf(cri.createContainer({ podSandboxId, config: { metadata: { name: 'late', attempt: 0 }, image: { image: 'busybox' } } }))).toMatch(/^NotFound/);
    await cri.removePodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
    expect(await kindOf(cri.containerStatus({ containerId }))).toMatch(/^NotFound/);
    expect(await kindOf(cri.stopPodSandbox({ podSandboxId }))).toMatch(/^NotFound/);
    expect(await kindOf(cri.removeContainer({ containerId }))).toBe('OK');
    expect(fake.runtime.sandboxIds()).toEqual([]);
  });

  it('serves declared ports on the pod IP with scheduled HTTP statuses and journals each probe request', async () => {
    const { fake, cri, logDir } = await setup();
    await cri.pullImage({ image: { image: 'example.com/app:1' } });
    const config = sandboxConfig('srv', logDir, { portMappings: [{ containerPort: 8080, protocol: 'TCP' }] });
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'srv', attempt: 0 },
        image: { image: 'example.com/app:1' },
        envs: [{ key: 'FAKE_HTTP_SCHEDULE', value: '/healthz=200 for 300ms then 503' }],
      },
    });
    await cri.startContainer({ containerId });
    const { status } = await cri.podSandboxStatus({ podSandboxId });
    const ip = status?.network?.ip ?? '';
    expect(ip).toMatch(/^127\.\d+\.\d+\.\d+$/);
    const get = async (path: string) => {
      for (let i = 0; i < 50; i++) {
        try {
          return (await fetch(`http://${ip}:8080${path}`, { headers: { 'user-agent': 'kube-probe/1.31' } })).status;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      throw new Error('port never opened');
    };
    expect(await get('/healthz')).toBe(200);
    expect(await get('/other')).toBe(200);
    await new Promise((r) => setTimeout(r, 350));
    expect(await get('/healthz')).toBe(503);
    const probes = fake.journal.entries(match('cri', 'ProbeRequestReceived', { containerId }));
    expect(probes.map((e) => (e.request as { status: number }).status)).toEqual([200, 200, 503]);
    expect((probes[0]?.request as { userAgent: string }).userAgent).toBe('kube-probe/1.31');
    await cri.stopContainer({ containerId, timeout: 5 });
    expect((await cri.containerStatus({ containerId })).status).toMatchObject({ exitCode: 0, reason: 'Completed' });
    await expect(fetch(`http://${ip}:8080/healthz`)).rejects.toThrow();
  });

  it('rejects requests missing required fields with INVALID_ARGUMENT naming the field', async () => {
    const { cri } = await setup();
    expect(await kindOf(cri.runPodSandbox({}))).toBe('InvalidArgument: config is required');
    expect(await kindOf(cri.runPodSandbox({ config: { metadata: { name: '' } } }))).toBe('InvalidArgument: config.metadata.name is required');
    expect(await kindOf(cri.containerStatus({ containerId: '' }))).toBe('InvalidArgument: container_id is required');
    expect(await kindOf(cri.execSync({ containerId: 'x', cmd: [] }))).toBe('InvalidArgument: cmd is required');
    expect(await kindOf(cri.pullImage({ image: { image: 'Not A Ref' } }))).toMatch(/^InvalidArgument: image.image: failed to parse image reference/);
    expect(await kindOf(cri.pullImage({ image: { image: 'registry.invalid/x/does-not-exist:1' } }))).toMatch(/^NotFound: failed to pull and unpack image/);
  });

  it('injects errors on the n-th call and hangs a call until the client deadline', async () => {
    const { fake, cri } = await setup({ faults: [{ method: 'Version', nth: 2, effect: { type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'busy' } }] });
    expect(await kindOf(cri.version({}))).toBe('OK');
    expect(await kindOf(cri.version({}))).toBe('ResourceExhausted: busy');
    expect(await kindOf(cri.version({}))).toBe('OK');
    fake.faults.add({ method: 'Status', times: 1, effect: { type: 'hang' } });
    const started = Date.now();
    expect(await kindOf(cri.status({}, { timeoutMs: 300 }))).toMatch(/^DeadlineExceeded/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(fake.journal.entries(match('cri', 'FaultInjected'))).toHaveLength(2);
  });

  it('restarts keeping or losing state; clients reconnect', async () => {
    const { fake, cri, logDir } = await setup();
    const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig('keep', logDir) });
    await fake.restart({ keepState: true, downMs: 50 });
    expect((await cri.podSandboxStatus({ podSandboxId })).status?.state).toBe('SANDBOX_READY');
    fake.faults.add({ method: 'ListPodSandbox', times: 1, effect: { type: 'restart', keepState: false, downMs: 50 } });
    expect(await kindOf(cri.runPodSandbox({ config: sandboxConfig('x', logDir) }))).toBe('OK');
    // The call in flight dies with the connection, as with a runtime process that crashes: the
    // client sees the connection drop (UNAVAILABLE; the client would retry it when allowed to).
    expect(await kindOf(cri.listPodSandbox({}, { timeoutMs: 3_000, retryUnavailable: false }))).toMatch(/^Unavailable/);
    await fake.journal.waitFor(match('cri', 'RuntimeRestarted'));
    expect((await cri.listPodSandbox({})).items).toEqual([]);
  });

  it('answers RPCs it does not serve with UNIMPLEMENTED, streaming ones included', async () => {
    const { cri, fake } = await setup();
    expect(await kindOf(cri.checkpointContainer({ containerId: 'x', location: '/tmp/x.tar' }))).toBe('Unimplemented: fake-cri does not implement CheckpointContainer');
    const streamed = (async () => {
      for await (const item of cri.streamContainers({})) void item;
    })();
    expect(await kindOf(streamed)).toMatch(/^Unimplemented/);
    expect((await cri.version({})).runtimeApiVersion).toBe('v1');
    expect(fake.journal.entries(match('cri', 'StreamContainers'))[0]?.error?.code).toBe('UNIMPLEMENTED');
  });
});
