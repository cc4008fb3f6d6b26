import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { JsonLineWatch } from './json-watch.js';

let api: MockApiServer | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function config(server: MockApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kc;
}

function pod(name: string, nodeName: string): unknown {
  return { metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'app', image: 'busybox' }] } };
}

/** Collects a watch's events and its single `done` call. */
function recorder(): { events: Array<[string, string]>; done: Promise<unknown>; doneCalls: number; onEvent(type: string, obj: unknown): void; onDone(err: unknown): void } {
  let resolve: (err: unknown) => void = () => undefined;
  const r = {
    events: [] as Array<[string, string]>,
    done: new Promise<unknown>((res) => (resolve = res)),
    doneCalls: 0,
    onEvent(type: string, obj: unknown) {
      r.events.push([type, (obj as { metadata?: { name?: string } }).metadata?.name ?? '']);
    },
    onDone(err: unknown) {
      r.doneCalls++;
      resolve(err);
    },
  };
  return r;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('JsonLineWatch', () => {
  it('delivers the changes after a resourceVersion, filtered by the field selector, in order', async () => {
    api = await startMockApiServer();
    const pods = api.registry.type('', 'pods');
    const since = String(api.store.resourceVersion);
    const r = recorder();
    const abort = await new JsonLineWatch(config(api)).watch('/api/v1/pods', { resourceVersion: since, fieldSelector: 'spec.nodeName=n1' }, r.onEvent, r.onDone);
    api.registry.create(pods, 'default', pod('a', 'n1'));
    api.registry.create(pods, 'default', pod('other', 'n2'));
    api.registry.patch(pods, 'default', 'a', 'merge', { metadata: { labels: { x: 'y' } } });
    api.registry.delete(pods, 'default', 'a', { gracePeriodSeconds: 0 });
    await until(() => r.events.length >= 3);
    expect(r.events).toEqual([
      ['ADDED', 'a'],
      ['MODIFIED', 'a'],
      ['DELETED', 'a'],
    ]);
    abort.abort();
    expect(await r.done).toBeNull();
    expect(r.doneCalls).toBe(1);
  });

  it('speaks TLS with the kubeconfig\'s CA and bearer token', async () => {
    api = await startMockApiServer({ tls: true, token: true });
    const pods = api.registry.type('', 'pods');
    const r = recorder();
    const abort = await new JsonLineWatch(config(api)).watch('/api/v1/pods', { resourceVersion: String(api.store.resourceVersion) }, r.onEvent, r.onDone);
    api.registry.create(pods, 'default', pod('secure', 'n1'));
    await until(() => r.events.length >= 1);
    expect(r.events).toEqual([['ADDED', 'secure']]);
    abort.abort();
    expect(await r.done).toBeNull();
  });

  it('is refused without the token', async () => {
    api = await startMockApiServer({ tls: true, token: true });
    const kc = config(api);
    const user = kc.getCurrentUser();
    if (user) (user as { token?: string }).token = 'wrong';
    const r = recorder();
    await new JsonLineWatch(kc).watch('/api/v1/pods', {}, r.onEvent, r.onDone);
    expect(await r.done).toMatchObject({ statusCode: 401 });
  });

  it('ends with an error carrying the HTTP status when the server refuses the watch', async () => {
    api = await startMockApiServer();
    const r = recorder();
    await new JsonLineWatch(config(api)).watch('/api/v1/nosuchthings', {}, r.onEvent, r.onDone);
    expect(await r.done).toMatchObject({ statusCode: 404 });
    expect(r.events).toEqual([]);
  });

  it('gives up with a TimeoutError after a quiet period on its clock', async () => {
    api = await startMockApiServer({ bookmarkIntervalMs: 3_600_000 });
    const clock = new VirtualClock();
    const r = recorder();
    await new JsonLineWatch(config(api), clock, 30_000).watch('/api/v1/pods', { resourceVersion: String(api.store.resourceVersion) }, r.onEvent, r.onDone);
    // The quiet period counts from the server's answer: let it arrive before time moves.
    await until(() => api!.watchCount('pods') === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await clock.advance(29_000);
    expect(r.doneCalls).toBe(0);
    await clock.advance(1_000);
    expect(await r.done).toMatchObject({ name: 'TimeoutError' });
    expect(r.doneCalls).toBe(1);
  });
});
