import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeCri, type FakeCri } from '../../fakes/cri/server.js';
import { match } from '../../fakes/journal/journal.js';
import { runChannelExec, runPortForward, UpgradeRefused } from '../../fakes/cri/streaming-client.js';
import { runSpdyExec } from '../../fakes/cri/streaming-spdy-client.js';
import { realClock } from '../clock/real-clock.js';
import { createCriClient, type CriClient } from '../runtime/cri-client.js';
import { streamOptions } from './exec.js';
import { parsePortQuery } from './port-forward.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const POD: V1Pod = { metadata: { namespace: 'default', name: 'web', uid: 'uid-web' }, spec: { containers: [{ name: 'app' }, { name: 'done' }] } };

/** A kubelet server over a fake runtime running pod default/web: app runs (httpd on 8080, a tick every 0.2 s), done has exited. */
async function setup(): Promise<{ server: KubeletServer; cri: CriClient; appId: string; fake: FakeCri }> {
  const fake = await startFakeCri();
  cleanups.push(() => fake.close());
  const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000 });
  cleanups.push(() => cri.close());
  const logDirectory = mkdtempSync(join(tmpdir(), 'kubelet-exec-'));
  cleanups.push(() => rmSync(logDirectory, { recursive: true, force: true }));
  await cri.pullImage({ image: { image: 'busybox' } });
  const podLabels = { 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.uid': 'uid-web' };
  const config = { metadata: { name: 'web', uid: 'uid-web', namespace: 'default', attempt: 0 }, hostname: 'web', logDirectory, labels: podLabels };
  const { podSandboxId } = await cri.runPodSandbox({ config });
  const create = async (name: string, script: string): Promise<string> => {
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name, attempt: 0 },
        image: { image: 'busybox' },
        command: ['sh', '-c', script],
        logPath: `${name}.log`,
        labels: { ...podLabels, 'io.kubernetes.container.name': name },
      },
    });
    await cri.startContainer({ containerId });
    return containerId;
  };
  const appId = await create('app', 'echo ready > /tmp/state; echo hello > /tmp/index.html; httpd -p 8080 -h /tmp; while true; do echo tick; sleep 0.2; done');
  await create('done', 'exit 0');
  const server = await startKubeletServer({
    port: 0,
    logs: { clock: realClock, cri, podByName: () => undefined, podStatus: () => undefined },
    exec: { cri, podByName: (ns, name) => (ns === 'default' && name === 'web' ? POD : undefined) },
  });
  cleanups.push(() => server.close());
  return { server, cri, appId, fake };
}

function execPath(path: string, command: string[], streams: string): string {
  return `${path}?${[...command.map((c) => `command=${encodeURIComponent(c)}`), streams].join('&')}`;
}

describe("the kubelet server's /exec", () => {
  it('runs the command in the named container through CRI Exec and the runtime streaming URL', async () => {
    const { server } = await setup();
    const url = server.url + execPath('/exec/default/web/app', ['sh', '-c', 'cat /tmp/state; echo err >&2; exit 3'], 'stdout=1&stderr=1');
    const result = await runChannelExec(url);
    expect(result).toMatchObject({ protocol: 'v5.channel.k8s.io', stdout: 'ready\n', stderr: 'err\n', exitCode: 3 });
  });

  it("proxies client-go's SPDY/3.1 upgrade to the runtime as well, the exit code coming back in the v4 Status", async () => {
    const { server, fake } = await setup();
    const url = server.url + execPath('/exec/default/web/app', ['sh', '-c', 'cat /tmp/state; echo err >&2; exit 7'], 'stdout=1&stderr=1');
    const result = await runSpdyExec(url, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ protocol: 'v4.channel.k8s.io', stdout: 'ready\n', stderr: 'err\n', exitCode: 7, goAway: true });
    expect(fake.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([{ request: { protocol: 'SPDY/3.1+v4.channel.k8s.io' }, response: { exitCode: 7 } }]);
  });

  it('passes stdin through, and takes the pod UID form of the path', async () => {
    const { server } = await setup();
    const url = server.url + execPath('/exec/default/web/uid-web/app', ['cat'], 'stdin=1&stdout=1');
    expect(await runChannelExec(url, { stdin: 'piped\n' })).toMatchObject({ stdout: 'piped\n', exitCode: 0 });
    const wrongUid = server.url + execPath('/exec/default/web/other-uid/app', ['true'], 'stdout=1');
    await expect(runChannelExec(wrongUid)).rejects.toEqual(new UpgradeRefused(500, 'container not found ("app")'));
  });

  it("answers with upstream's errors: streams, unknown pod, container not running, no upgrade", async () => {
    const { server } = await setup();
    await expect(runChannelExec(server.url + execPath('/exec/default/web/app', ['true'], 'stdout=true'))).rejects.toEqual(
      new UpgradeRefused(400, 'you must specify at least 1 of stdin, stdout, stderr'),
    );
    await expect(runChannelExec(server.url + execPath('/exec/default/nope/app', ['true'], 'stdout=1'))).rejects.toEqual(new UpgradeRefused(404, 'pod does not exist'));
    await expect(runChannelExec(server.url + execPath('/exec/default/web/done', ['true'], 'stdout=1'))).rejects.toEqual(new UpgradeRefused(500, 'container not found ("done")'));
    const plain = await fetch(server.url + execPath('/exec/default/web/app', ['true'], 'stdout=1'), { method: 'POST' });
    expect([plain.status, await plain.text()]).toEqual([500, 'Upgrade request required\n']);
    const put = await fetch(server.url + execPath('/exec/default/web/app', ['true'], 'stdout=1'), { method: 'PUT' });
    expect(put.status).toBe(405);
  });

  it('hands a runtime error answer back to the client unchanged', async () => {
    const { server } = await setup();
    // A TTY with stderr: the kubelet drops stderr (NewOptions), so the runtime accepts it.
    const tty = await runChannelExec(server.url + execPath('/exec/default/web/app', ['sh', '-c', 'echo a >&2'], 'stdout=1&stderr=1&tty=1'));
    expect(tty).toMatchObject({ stdout: 'a\r\n', stderr: '', exitCode: 0 });
    // An unknown subprotocol: the runtime's 403 reaches the client through the proxy.
    await expect(runChannelExec(server.url + execPath('/exec/default/web/app', ['true'], 'stdout=1'), { protocols: ['v9.channel.k8s.io'] })).rejects.toEqual(
      new UpgradeRefused(403, ''),
    );
  });
});

describe("the kubelet server's /exec, continued", () => {
  it('refuses a malformed path escape with 400', async () => {
    const { server } = await setup();
    await expect(runChannelExec(server.url + execPath('/exec/default/w%ZZ/app', ['true'], 'stdout=1'))).rejects.toEqual(
      new UpgradeRefused(400, '400 Bad Request: invalid URL escape'),
    );
  });

  it('ends streams in flight when it closes, and the exec dies with its stream', async () => {
    const { server, cri, appId, fake } = await setup();
    const pending = runChannelExec(server.url + execPath('/exec/default/web/app', ['sh', '-c', 'echo started; sleep 3600'], 'stdout=1'));
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    const result = await pending;
    expect(result).toMatchObject({ stdout: 'started\n', exitCode: null });
    // The runtime's exec went away with the connection (killed: 128 + SIGKILL); the container itself still runs.
    await fake.journal.waitFor(match('cri', 'ExecSessionEnded'), AbortSignal.timeout(5_000));
    expect(fake.journal.entries(match('cri', 'ExecSessionEnded'))).toMatchObject([{ response: { exitCode: 137 } }]);
    expect((await cri.containerStatus({ containerId: appId })).status?.state).toBe('CONTAINER_RUNNING');
  });
});

describe('CRI errors at the kubelet', () => {
  it('map NotFound to 404, ResourceExhausted to 429 with Retry-After, anything else to 500 (streaming.WriteError)', async () => {
    const { server, fake } = await setup();
    const url = server.url + execPath('/exec/default/web/app', ['true'], 'stdout=1');
    fake.faults.add({ method: 'Exec', times: 1, effect: { type: 'error', code: 'NOT_FOUND', message: 'gone' } });
    await expect(runChannelExec(url)).rejects.toEqual(new UpgradeRefused(404, 'rpc error: code = NotFound desc = gone'));
    fake.faults.add({ method: 'Exec', times: 1, effect: { type: 'error', code: 'UNAVAILABLE', message: 'down' } });
    await expect(runChannelExec(url)).rejects.toEqual(new UpgradeRefused(500, 'rpc error: code = Unavailable desc = down'));
    fake.faults.add({ method: 'Exec', times: 1, effect: { type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'maximum number of in-flight requests exceeded' } });
    const plain = await fetch(url);
    expect([plain.status, plain.headers.get('retry-after'), await plain.text()]).toEqual([429, '60', 'rpc error: code = ResourceExhausted desc = maximum number of in-flight requests exceeded']);
  });
});

describe('stream options', () => {
  it('count only "1" as on and drop stderr under a TTY', () => {
    expect(streamOptions(new URLSearchParams('stdout=1&stderr=1&tty=1'))).toEqual({ stdin: false, stdout: true, stderr: false, tty: true });
    expect(streamOptions(new URLSearchParams('stdin=true'))).toEqual({ error: 'you must specify at least 1 of stdin, stdout, stderr' });
  });
});

describe("the kubelet server's /attach", () => {
  it("streams the container's output from the moment of attaching, through CRI Attach", async () => {
    const { server, fake } = await setup();
    const attached = await runChannelExec(server.url + '/attach/default/web/app?stdout=1&stderr=1', { timeoutMs: 700 }).catch((e: unknown) => e);
    expect((attached as Error).message).toMatch(/stdout so far: "tick\\ntick\\n/);
    expect(fake.journal.entries(match('cri', 'Attach'))).toHaveLength(1);
  });

  it("answers with upstream's errors: unknown pod, container not in the spec, not running", async () => {
    const { server } = await setup();
    await expect(runChannelExec(server.url + '/attach/default/nope/app?stdout=1')).rejects.toEqual(new UpgradeRefused(404, 'pod does not exist'));
    await expect(runChannelExec(server.url + '/attach/default/web/ghost?stdout=1')).rejects.toEqual(new UpgradeRefused(500, 'container ghost not found in pod web_default'));
    await expect(runChannelExec(server.url + '/attach/default/web/done?stdout=1')).rejects.toEqual(new UpgradeRefused(500, 'container not found ("done")'));
    await expect(runChannelExec(server.url + '/attach/default/web/app')).rejects.toEqual(new UpgradeRefused(400, 'you must specify at least 1 of stdin, stdout, stderr'));
  });
});

describe("the kubelet server's /portForward", () => {
  it("forwards to the pod's port through CRI PortForward on the pod's sandbox, with or without the UID", async () => {
    const { server, fake } = await setup();
    for (const path of ['/portForward/default/web?port=8080', '/portForward/default/web/uid-web?port=8080']) {
      const result = await runPortForward(server.url + path, 'GET /index.html HTTP/1.0\r\n\r\n', { timeoutMs: 10_000 });
      expect([result.dataPort, result.error]).toEqual([8080, '']);
      expect(result.data.toString()).toMatch(/^HTTP\/1\.[01] 200 [\s\S]*\r\n\r\nhello\n$/);
    }
    expect(fake.journal.entries(match('cri', 'PortForward')).map((e) => (e.request as { port: number[] }).port)).toEqual([[8080], [8080]]);
  });

  it("answers with upstream's errors: ports, unknown pod, another UID, no upgrade", async () => {
    const { server } = await setup();
    await expect(runPortForward(server.url + '/portForward/default/web', '')).rejects.toEqual(new UpgradeRefused(400, 'query parameter "port" is required'));
    await expect(runPortForward(server.url + '/portForward/default/nope?port=80', '')).rejects.toEqual(new UpgradeRefused(404, 'pod does not exist'));
    await expect(runPortForward(server.url + '/portForward/default/web/other?port=80', '')).rejects.toEqual(new UpgradeRefused(404, 'pod not found'));
    const plain = await fetch(server.url + '/portForward/default/web?port=8080');
    expect([plain.status, await plain.text()]).toEqual([500, 'Upgrade request required\n']);
  });
});

describe('the kubelet port query of a WebSocket port-forward', () => {
  it('takes repeated and comma-separated ports and names what is wrong', () => {
    expect(parsePortQuery(new URLSearchParams('port=80&port=8080,9090'))).toEqual([80, 8080, 9090]);
    expect(parsePortQuery(new URLSearchParams(''))).toEqual({ error: 'query parameter "port" is required' });
    expect(parsePortQuery(new URLSearchParams('port='))).toEqual({ error: 'query parameter "port" cannot be empty' });
    expect(parsePortQuery(new URLSearchParams('port=http'))).toEqual({ error: 'unable to parse "http" as a port' });
    expect(parsePortQuery(new URLSearchParams('port=70000'))).toEqual({ error: 'unable to parse "70000" as a port' });
    expect(parsePortQuery(new URLSearchParams('port=0'))).toEqual({ error: 'port "0" must be > 0' });
  });
});
