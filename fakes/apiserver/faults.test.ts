import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '../journal/journal.js';
import { seededRandom } from '../../agent/util/seeded-random.js';
import { FaultInjector } from './faults.js';
import { startMockApiServer, type MockApiServer } from './server.js';

describe('fault injector', () => {
  it('decides the same faults for the same seed and request sequence', () => {
    const decisions = (seed: number): string[] => {
      const faults = new FaultInjector(seed);
      faults.add({ path: '/api/v1/pods', errorRate: 0.5, errorCode: 503 });
      faults.add({ method: 'GET', watch: true, dropRate: 0.3, latencyMs: [10, 20] });
      return Array.from({ length: 50 }, (_, i) => {
        const d = faults.decide('GET', '/api/v1/pods', i % 2 === 0);
        return `${d.error?.code ?? 200}/${d.drop}/${Math.round(d.latencyMs)}`;
      });
    };
    expect(decisions(42)).toEqual(decisions(42));
    expect(decisions(42)).not.toEqual(decisions(43));
    const codes = decisions(7).map((d) => d.split('/')[0]);
    expect(codes).toContain('503');
    expect(codes).toContain('200');
  });

  it('applies rules only to matching methods, paths and watch-ness, and rejects rates outside [0, 1]', () => {
    const faults = new FaultInjector(1);
    faults.add({ method: 'POST', path: /\/pods$/, errorRate: 1 });
    expect(faults.decide('GET', '/api/v1/namespaces/a/pods', false).error).toBeUndefined();
    expect(faults.decide('POST', '/api/v1/namespaces/a/pods', false).error?.code).toBe(500);
    expect(faults.decide('POST', '/api/v1/namespaces/a/pods/x', false).error).toBeUndefined();
    expect(() => faults.add({ errorRate: 1.5 })).toThrow(RangeError);
    const r = seededRandom(9);
    expect(Array.from({ length: 1000 }, r).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('fault injection on the served API', () => {
  let server: MockApiServer;
  let journal: Journal;

  beforeEach(async () => {
    journal = new Journal();
    server = await startMockApiServer({ faultSeed: 3, journal });
  });

  afterEach(async () => {
    await server.close();
  });

  it('answers matching requests with the injected Status and leaves the rest alone', async () => {
    const remove = server.faults.add({ method: 'POST', path: '/configmaps', errorRate: 1, errorCode: 429 });
    const body = JSON.stringify({ metadata: { name: 'c' } });
    const denied = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(denied.status).toBe(429);
    expect(denied.headers.get('retry-after')).toBe('1');
    expect(await denied.json()).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    expect(server.store.get('configmaps', 'default', 'c')).toBeUndefined();
    expect((await fetch(`${server.url}/api/v1/namespaces/default/configmaps`)).status).toBe(200);
    remove();
    const created = await fetch(`${server.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(created.status).toBe(201);
    expect(journal.entries((e) => e.source === 'apiserver').map((e) => `${e.name} ${e.subject['name']}`)).toEqual(['create configmaps c']);
  });

  it('adds latency and drops connections without an answer', async () => {
    server.faults.add({ path: '/version', latencyMs: 120 });
    const started = performance.now();
    expect((await fetch(`${server.url}/version`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    server.faults.clear();
    server.faults.add({ path: '/api/v1/nodes', dropRate: 1 });
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${server.url}/api/v1/nodes`, (res) => resolve(`answered ${res.statusCode}`));
      req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      req.end();
    });
    expect(outcome).toBe('ECONNRESET');
  });

  it('closes, expires and drops open watches on demand', async () => {
    const open = async (): Promise<{ text: Promise<string>; controller: AbortController }> => {
      const controller = new AbortController();
      const res = await fetch(`${server.url}/api/v1/pods?watch=true&resourceVersion=${server.store.resourceVersion}`, { signal: controller.signal });
      return { text: res.text(), controller };
    };
    const a = await open();
    expect(server.watchCount('pods')).toBe(1);
    expect(server.faults.closeWatches('pods')).toBe(1);
    expect(await a.text).toBe('');
    const b = await open();
    expect(server.faults.expireWatches()).toBe(1);
    expect(JSON.parse(await b.text)).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    const c = await open();
    expect(server.faults.dropWatches('pods')).toBe(1);
    await expect(c.text).rejects.toThrow();
    expect(server.watchCount()).toBe(0);
  });
});
