import { createServer, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { useStubKubelet, type StubKubeletApi } from './stub-kubelet-test-support.js';

const startWithKubelet = useStubKubelet();

interface Fixture extends StubKubeletApi {
  /** Paths (with queries) the stub kubelet was asked for. */
  asked: string[];
  /** Open follow streams of the stub kubelet. */
  followers: ServerResponse[];
}

/**
 * A mock API server with node n1 whose kubelet is a stub answering /containerLogs: `fail` in the
 * container name makes it answer with that status code; `follow=true` keeps the stream open.
 */
async function setup(nodeStatus?: object): Promise<Fixture> {
  const asked: string[] = [];
  const followers: ServerResponse[] = [];
  const kubelet = createServer((req, res) => {
    asked.push(req.url ?? '');
    const fail = /\/fail(\d{3})$/.exec(new URL(req.url ?? '/', 'http://x').pathname);
    if (fail) {
      res.writeHead(Number(fail[1]), { 'content-type': 'text/plain' });
      res.end(`kubelet says ${fail[1]}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.write('line 1\n');
    if (req.url?.includes('follow=true')) followers.push(res);
    else res.end('line 2\n');
  });
  const started = await startWithKubelet(kubelet, {
    nodeStatus: (port) => nodeStatus ?? { addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
  });
  started.pod('one', 'n1', ['app']);
  started.pod('two', 'n1', ['a', 'b', 'fail400', 'fail404', 'fail500', 'fail503'], ['init']);
  started.pod('pending', '', ['app']);
  started.pod('lost', 'n2', ['app']);
  return { ...started, asked, followers };
}

async function get(f: Fixture, path: string): Promise<{ code: number; type: string; body: string; json: () => Record<string, unknown> }> {
  const res = await fetch(`${f.api.url}/api/v1/namespaces/default/pods/${path}`);
  const body = await res.text();
  return { code: res.status, type: res.headers.get('content-type') ?? '', body, json: () => JSON.parse(body) as Record<string, unknown> };
}

describe('pods/log on the mock API server', () => {
  it("proxies to the node's kubelet at its reported port, passing the options the kubelet reads", async () => {
    const f = await setup();
    const res = await get(f, 'one/log?timestamps=true&tailLines=5&limitBytes=100&previous=true&sinceSeconds=30&insecureSkipTLSVerifyBackend=true');
    expect([res.code, res.type, res.body]).toEqual([200, 'text/plain', 'line 1\nline 2\n']);
    expect(f.asked).toEqual(['/containerLogs/default/one/app?limitBytes=100&previous=true&sinceSeconds=30&tailLines=5&timestamps=true']);
    await get(f, 'two/log?container=init');
    expect(f.asked[1]).toBe('/containerLogs/default/two/init');
  });

  it('streams a followed log as the kubelet writes it, and drops the kubelet stream when the client goes away', async () => {
    const f = await setup();
    const aborter = new AbortController();
    const res = await fetch(`${f.api.url}/api/v1/namespaces/default/pods/one/log?follow=true`, { signal: aborter.signal });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString()).toBe('line 1\n');
    expect(f.followers).toHaveLength(1);
    f.followers[0]!.write('line 2\n');
    const second = await reader.read();
    expect(Buffer.from(second.value!).toString()).toBe('line 2\n');
    const closed = new Promise((r) => f.followers[0]!.once('close', r));
    aborter.abort();
    await closed;
  });

  it("needs a container name when the pod has several, listing them as upstream's message does", async () => {
    const f = await setup();
    const res = await get(f, 'two/log');
    expect(res.code).toBe(400);
    expect(res.json()).toMatchObject({
      reason: 'BadRequest',
      message: 'a container name must be specified for pod two, choose one of: [a b fail400 fail404 fail500 fail503] or one of the init containers: [init]',
    });
    expect((await get(f, 'one/log?container=nope')).json()).toMatchObject({ code: 400, message: 'container nope is not valid for pod one' });
    expect(f.asked).toEqual([]);
  });

  it('validates the options as PodLogOptions, naming each field', async () => {
    const f = await setup();
    const invalid = await get(f, 'one/log?tailLines=-1&limitBytes=0');
    expect(invalid.code).toBe(422);
    expect(invalid.json()).toMatchObject({
      reason: 'Invalid',
      message: 'PodLogOptions "one" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]',
      details: { name: 'one', kind: 'PodLogOptions', causes: [{ reason: 'FieldValueInvalid', field: 'tailLines' }, { reason: 'FieldValueInvalid', field: 'limitBytes' }] },
    });
    expect((await get(f, 'one/log?sinceSeconds=1&sinceTime=2026-01-01T00:00:00Z')).json()).toMatchObject({
      code: 422,
      message: 'PodLogOptions "one" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified',
    });
    expect((await get(f, 'one/log?follow=maybe')).json()).toMatchObject({ code: 400, message: 'strconv.ParseBool: parsing "maybe": invalid syntax' });
  });

  it('answers an unknown pod 404, an unbound pod with no content, and an unknown node 404', async () => {
    const f = await setup();
    expect((await get(f, 'ghost/log')).json()).toMatchObject({ code: 404, reason: 'NotFound', message: 'pods "ghost" not found' });
    const pending = await get(f, 'pending/log');
    expect([pending.code, pending.body]).toEqual([204, '']);
    expect((await get(f, 'lost/log')).json()).toMatchObject({ code: 404, reason: 'NotFound', message: 'nodes "n2" not found' });
  });

  it("turns the kubelet's error answers into API errors as kube-apiserver does", async () => {
    const f = await setup();
    expect((await get(f, 'two/log?container=fail400')).json()).toMatchObject({ code: 400, reason: 'BadRequest', message: 'kubelet says 400' });
    expect((await get(f, 'two/log?container=fail500')).json()).toMatchObject({ code: 500, reason: 'InternalError', message: 'Internal error occurred: kubelet says 500' });
    expect((await get(f, 'two/log?container=fail404')).json()).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource ( pods/log two)',
      details: { name: 'two', kind: 'pods/log' },
    });
    expect((await get(f, 'two/log?container=fail503')).json()).toMatchObject({ code: 503, reason: 'ServiceUnavailable' });
  });

  it('answers 500 naming the dial error when the kubelet is unreachable, and when the node has no usable address', async () => {
    const f = await setup();
    const port = f.kubeletPort;
    await f.closeKubelet();
    const refused = await get(f, 'one/log');
    expect(refused.code).toBe(500);
    expect(refused.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 500,
      message: `Get "http://127.0.0.1:${port}/containerLogs/default/one/app": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
    await f.api.close();
    const g = await setup({ addresses: [{ type: 'InternalDNS', address: 'n1.local' }] });
    expect((await get(g, 'one/log')).json()).toMatchObject({ code: 500, message: 'no preferred addresses found; known addresses: [{InternalDNS n1.local}]' });
  });

  it('uses the default kubelet port when the node reports none, and lists pods/log in discovery', async () => {
    const f = await setup({ addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] });
    expect((await get(f, 'one/log')).json()).toMatchObject({ code: 500, message: expect.stringContaining('http://127.0.0.1:10250/containerLogs/default/one/app') });
    const doc = (await (await fetch(`${f.api.url}/api/v1`)).json()) as { resources: Array<{ name: string; verbs: string[] }> };
    expect(doc.resources.find((r) => r.name === 'pods/log')).toMatchObject({ verbs: ['get'] });
  });
});
