import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { realClock } from '../clock/real-clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { startKubeletServer, type KubeletServer } from './kubelet-server.js';

let server: KubeletServer | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const line = (sec: number, text: string): string => `2026-01-01T00:00:${String(sec).padStart(2, '0')}Z stdout F ${text}\n`;

interface Node {
  server: KubeletServer;
  logPath: string;
  states: Map<string, string>;
}

/** A kubelet with one pod `web` (containers app and side): app runs as instance b after instance a exited. */
async function start(): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-server-'));
  dirs.push(dir);
  const logPath = join(dir, '1.log');
  writeFileSync(join(dir, '0.log'), line(1, 'first run'));
  writeFileSync(logPath, [line(2, 'one'), line(3, 'two'), line(4, 'three')].join(''));
  const states = new Map([
    ['a', 'CONTAINER_EXITED'],
    ['b', 'CONTAINER_RUNNING'],
  ]);
  const paths: Record<string, string> = { a: join(dir, '0.log'), b: logPath };
  const pod: V1Pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'app' }, { name: 'side' }] } };
  const status: V1PodStatus = {
    containerStatuses: [
      { name: 'app', image: '', imageID: '', ready: true, restartCount: 1, containerID: 'fake://b', state: { running: {} }, lastState: { terminated: { exitCode: 1, containerID: 'fake://a' } } },
      { name: 'side', image: '', imageID: '', ready: true, restartCount: 0, containerID: 'fake://gone', state: { running: {} } },
    ],
  };
  const cri = {
    containerStatus: ({ containerId }: { containerId: string }) => {
      const state = states.get(containerId);
      if (!state) return Promise.reject(new Error(`container ${containerId} not found`));
      return Promise.resolve({ status: { state, logPath: paths[containerId] ?? '' }, info: {} });
    },
  } as unknown as Pick<CriClient, 'containerStatus'>;
  server = await startKubeletServer({
    port: 0,
    forceCheckPeriodMs: 50,
    logs: {
      clock: realClock,
      cri,
      podByName: (ns, name) => (ns === 'default' && name === 'web' ? pod : undefined),
      podStatus: () => status,
    },
  });
  return { server, logPath, states };
}

function get(node: Node, path: string, method = 'GET'): Promise<{ code: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${node.server.url}${path}`, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the kubelet server', () => {
  it('listens on loopback by default and serves a container log as text', async () => {
    const node = await start();
    expect(node.server.host).toBe('127.0.0.1');
    expect(await get(node, '/containerLogs/default/web/app')).toEqual({ code: 200, type: 'text/plain; charset=utf-8', body: 'one\ntwo\nthree\n' });
  });

  it('takes tailLines, the old tail parameter, timestamps and previous', async () => {
    const node = await start();
    expect((await get(node, '/containerLogs/default/web/app?tailLines=1')).body).toBe('three\n');
    expect((await get(node, '/containerLogs/default/web/app?tail=2')).body).toBe('two\nthree\n');
    expect((await get(node, '/containerLogs/default/web/app?tail=all&tailLines=1')).body).toBe('one\ntwo\nthree\n');
    expect((await get(node, '/containerLogs/default/web/app?timestamps=true&limitBytes=35')).body).toBe('2026-01-01T00:00:02.000000000Z one\n');
    expect((await get(node, '/containerLogs/default/web/app?previous=true')).body).toBe('first run\n');
  });

  it('answers bad requests with upstream codes and messages', async () => {
    const node = await start();
    expect(await get(node, '/containerLogs/default/nope/app')).toMatchObject({ code: 404, body: 'pod "nope" does not exist' });
    expect(await get(node, '/containerLogs/default/web/db')).toMatchObject({ code: 404, body: 'container "db" not found in pod "web"' });
    expect(await get(node, '/containerLogs/default/web/app?tailLines=x')).toMatchObject({ code: 400, body: '{"message": "Unable to decode query."}' });
    expect(await get(node, '/containerLogs/default/web/app?tailLines=-1')).toMatchObject({ code: 422, body: '{"message": "Invalid request."}' });
    expect(await get(node, '/containerLogs/default/web/side?previous=true')).toMatchObject({ code: 400, body: 'previous terminated container "side" in pod "web" not found' });
    expect(await get(node, '/pods')).toMatchObject({ code: 404 });
    expect(await get(node, '/containerLogs/default/web/%zz')).toMatchObject({ code: 400 });
    expect(await get(node, '/containerLogs/default/web/app', 'POST')).toMatchObject({ code: 405 });
  });

  it('puts a runtime failure after the status line into the output, as upstream does', async () => {
    const node = await start();
    expect(await get(node, '/containerLogs/default/web/side')).toMatchObject({ code: 200, body: 'unable to retrieve container logs for fake://gone' });
  });

  it('streams a followed log until the container stops', async () => {
    const node = await start();
    const chunks: string[] = [];
    const done = new Promise<number>((resolve, reject) => {
      const req = request(`${node.server.url}/containerLogs/default/web/app?follow=true&tailLines=0`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    appendFileSync(node.logPath, line(5, 'four'));
    for (let i = 0; i < 200 && chunks.join('') === ''; i++) await new Promise((r) => setTimeout(r, 10));
    expect(chunks.join('')).toBe('four\n');
    node.states.set('b', 'CONTAINER_EXITED');
    expect(await done).toBe(200);
    expect(chunks.join('')).toBe('four\n');
  });

  it('ends open follows when it closes', async () => {
    const node = await start();
    const ended = new Promise<string>((resolve) => {
      const req = request(`${node.server.url}/containerLogs/default/web/app?follow=true`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
        res.on('error', () => resolve(body));
      });
      req.on('error', () => resolve(''));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await node.server.close();
    server = undefined;
    expect(await ended).toBe('one\ntwo\nthree\n');
  });

  it('can be closed again after it closed, as an agent stopped twice closes it', async () => {
    const node = await start();
    await node.server.close();
    server = undefined;
    await expect(node.server.close()).resolves.toBeUndefined();
  });
});
