import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runChannelExec, UpgradeRefused } from '../cri/streaming-client.js';
import { encodeFrame, negotiate } from '../cri/streaming-protocol.js';
import { match } from '../journal/journal.js';
import { Journal } from '../journal/journal.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { decodePodExecQuery } from './pod-exec.js';
import type { MockApiServer } from './server.js';
import { useStubKubelet } from './stub-kubelet-test-support.js';

const startWithKubelet = useStubKubelet();

interface Fixture {
  api: MockApiServer;
  journal: Journal;
  /** What the stub kubelet was asked: the path with its query, and whether credentials reached it. */
  asked: Array<{ url: string; authorization: string | undefined; method: string }>;
}

/**
 * A mock API server requiring a token, with node n1 whose kubelet is a stub: it accepts any exec
 * upgrade, writes the request URL on stdout and reports success on the error channel.
 */
async function setup(kubeletPort?: number): Promise<Fixture> {
  const asked: Fixture['asked'] = [];
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (p) => negotiate([...p])?.name || false });
  const kubelet = createServer((_req, res) => res.writeHead(500).end());
  kubelet.on('upgrade', (req, socket, head) => {
    asked.push({ url: req.url ?? '', authorization: req.headers.authorization, method: req.method ?? '' });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const protocol = negotiate([ws.protocol])!;
      ws.send(encodeFrame(protocol, 1, Buffer.from(req.url ?? '')));
      ws.send(encodeFrame(protocol, 3, Buffer.from('{"metadata":{},"status":"Success"}')));
      ws.close(1000);
    });
  });
  const journal = new Journal(realClock);
  const { api, pod } = await startWithKubelet(kubelet, {
    api: { token: 'sekret', journal },
    nodeStatus: (port) => ({ addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort ?? port } } }),
  });
  pod('one', 'n1', ['app']);
  pod('two', 'n1', ['a', 'b'], ['init']);
  pod('pending', '', ['app']);
  return { api, journal, asked };
}

const AUTH = { authorization: 'Bearer sekret' };

function execUrl(f: Fixture, pod: string, query: string): string {
  return `${f.api.url}/api/v1/namespaces/default/pods/${pod}/exec?${query}`;
}

async function refusal(url: string, headers: Record<string, string> = AUTH): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await runChannelExec(url, { headers });
  } catch (err) {
    if (err instanceof UpgradeRefused) return { status: err.statusCode, body: JSON.parse(err.body) as Record<string, unknown> };
    throw err;
  }
  throw new Error('the upgrade was not refused');
}

describe('pods/exec on the mock API server', () => {
  it("proxies the upgrade to the node's kubelet with the stream flags as \"1\", the command and the container in the path", async () => {
    const f = await setup();
    const result = await runChannelExec(execUrl(f, 'two', 'container=b&stdout=true&stderr=true&stdin=false&command=sh&command=-c&command=echo%20hi'), { headers: AUTH });
    expect(result).toMatchObject({ protocol: 'v5.channel.k8s.io', exitCode: 0 });
    expect(result.stdout).toBe('/exec/default/two/b?stdout=1&stderr=1&command=sh&command=-c&command=echo+hi');
    // The API server's credentials stay with the API server.
    expect(f.asked).toEqual([{ url: result.stdout, authorization: undefined, method: 'GET' }]);
    expect(f.journal.entries(match('apiserver', 'get pods/exec'))).toMatchObject([{ subject: { namespace: 'default', name: 'two' }, response: { code: 101 } }]);
  });

  it('defaults to the only container', async () => {
    const f = await setup();
    const result = await runChannelExec(execUrl(f, 'one', 'stdout=1&command=true'), { headers: AUTH });
    expect(result.stdout).toBe('/exec/default/one/app?stdout=1&command=true');
  });

  it("refuses as kube-apiserver does: container rule, unbound pod, unknown pod, missing command, no credentials", async () => {
    const f = await setup();
    expect(await refusal(execUrl(f, 'two', 'stdout=true&command=true'))).toMatchObject({
      status: 400,
      body: { kind: 'Status', reason: 'BadRequest', message: 'a container name must be specified for pod two, choose one of: [a b] or one of the init containers: [init]' },
    });
    expect(await refusal(execUrl(f, 'two', 'container=nope&stdout=true&command=true'))).toMatchObject({ status: 400, body: { message: 'container nope is not valid for pod two' } });
    expect(await refusal(execUrl(f, 'pending', 'stdout=true&command=true'))).toMatchObject({ status: 400, body: { message: 'pod pending does not have a host assigned' } });
    expect(await refusal(execUrl(f, 'ghost', 'stdout=true&command=true'))).toMatchObject({ status: 404, body: { reason: 'NotFound', message: 'pods "ghost" not found' } });
    expect(await refusal(execUrl(f, 'one', 'stdout=true'))).toMatchObject({ status: 400, body: { message: 'you must specify at least one command for the container' } });
    expect(await refusal(execUrl(f, 'one', 'stdout=true&command=true'), {})).toMatchObject({ status: 401, body: { reason: 'Unauthorized' } });
    expect(await refusal(`${f.api.url}/api/v1/namespaces/default/pods/one/proxy`)).toMatchObject({ status: 404 });
    expect(f.asked).toEqual([]);
  });

  it('answers a request without an upgrade with "Upgrade request required" once the options check out', async () => {
    const f = await setup();
    const plain = await fetch(execUrl(f, 'one', 'stdout=true&command=true'), { method: 'POST', headers: AUTH });
    expect([plain.status, ((await plain.json()) as { message: string }).message]).toEqual([400, 'Upgrade request required']);
    const pending = await fetch(execUrl(f, 'pending', 'stdout=true&command=true'), { headers: AUTH });
    expect([pending.status, ((await pending.json()) as { message: string }).message]).toEqual([400, 'pod pending does not have a host assigned']);
  });

  it('reports an unreachable kubelet as a 500 naming the dial error', async () => {
    const f = await setup(1);
    expect(await refusal(execUrl(f, 'one', 'stdout=true&command=true'))).toMatchObject({
      status: 500,
      body: { message: 'error dialing backend: dial tcp 127.0.0.1:1: connect: connection refused' },
    });
  });

  it('lists pods/exec in discovery', async () => {
    const f = await setup();
    const res = await fetch(`${f.api.url}/api/v1`, { headers: AUTH });
    const doc = (await res.json()) as { resources: Array<{ name: string; kind: string; verbs: string[] }> };
    expect(doc.resources.find((r) => r.name === 'pods/exec')).toEqual({ name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] });
  });
});

describe('PodExecOptions from the query', () => {
  it('takes a flag as false only for "0" or "false", and keeps the command in order', () => {
    expect(decodePodExecQuery(new URLSearchParams('stdin=0&stdout=FALSE&stderr=&tty=1&command=a&command=b'))).toEqual({
      stdin: false,
      stdout: false,
      stderr: true,
      tty: true,
      command: ['a', 'b'],
    });
  });
});

describe('pods/attach and pods/portforward on the mock API server', () => {
  it("proxy to the kubelet's /attach/{ns}/{pod}/{container} and /portForward/{ns}/{pod} with each port as `port`", async () => {
    const f = await setup();
    const attach = await runChannelExec(`${f.api.url}/api/v1/namespaces/default/pods/two/attach?container=b&stdout=true&stderr=true`, { headers: AUTH });
    expect(attach.stdout).toBe('/attach/default/two/b?stdout=1&stderr=1');
    const forward = await runChannelExec(`${f.api.url}/api/v1/namespaces/default/pods/one/portforward?ports=8080&ports=9090`, { headers: AUTH, protocols: ['v4.channel.k8s.io'] });
    expect(forward.stdout).toBe('/portForward/default/one?port=8080&port=9090');
    expect(f.asked.map((a) => a.authorization)).toEqual([undefined, undefined]);
    expect(f.journal.entries(match('apiserver', 'get pods/attach'))).toMatchObject([{ response: { code: 101 } }]);
    expect(f.journal.entries(match('apiserver', 'get pods/portforward'))).toMatchObject([{ response: { code: 101 } }]);
  });

  it('refuse a bad port, a pod without a node and a container the pod lacks with a Status naming it', async () => {
    const f = await setup();
    const bad = await refusal(`${f.api.url}/api/v1/namespaces/default/pods/one/portforward?ports=http`);
    expect([bad.status, bad.body.message]).toEqual([400, 'ports: Invalid value: "http": must be a port number between 1 and 65535']);
    const pending = await refusal(`${f.api.url}/api/v1/namespaces/default/pods/pending/portforward?ports=80`);
    expect([pending.status, pending.body.message]).toEqual([400, 'pod pending does not have a host assigned']);
    const ghost = await refusal(`${f.api.url}/api/v1/namespaces/default/pods/one/attach?container=ghost&stdout=1`);
    expect(ghost.status).toBe(400);
    expect(ghost.body.message).toMatch(/ghost/);
    const plain = await fetch(`${f.api.url}/api/v1/namespaces/default/pods/one/portforward?ports=80`, { method: 'POST', headers: AUTH });
    expect([plain.status, ((await plain.json()) as { message: string }).message]).toEqual([400, 'Upgrade request required']);
    expect(f.asked).toEqual([]);
  });

  it('are listed in discovery', async () => {
    const f = await setup();
    const doc = (await (await fetch(`${f.api.url}/api/v1`, { headers: AUTH })).json()) as { resources: Array<{ name: string; kind: string }> };
    expect(doc.resources.filter((r) => r.name === 'pods/attach' || r.name === 'pods/portforward').map((r) => r.kind)).toEqual(['PodAttachOptions', 'PodPortForwardOptions']);
  });
});
