import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { ApiRegistry } from './registry.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ObjectStore } from './store.js';
import { WatchSession, type WatchFilter } from './watch.js';

function setup() {
  const clock = new VirtualClock();
  const store = new ObjectStore({ historyLimit: 50 });
  const registry = new ApiRegistry(store, clock);
  registry.bootstrap();
  const pods = registry.type('', 'pods');
  const lines: Array<{ type: string; name?: string; rv?: string; code?: number; annotations?: unknown }> = [];
  let ended = 0;
  const sink = {
    push: (line: string) => {
      const ev = JSON.parse(line) as { type: string; object: { code?: number; metadata?: { name?: string; resourceVersion?: string; annotations?: unknown } } };
      const entry: (typeof lines)[number] = { type: ev.type };
      if (ev.object.metadata?.name) entry.name = ev.object.metadata.name;
      if (ev.object.metadata?.resourceVersion) entry.rv = ev.object.metadata.resourceVersion;
      if (ev.object.code) entry.code = ev.object.code;
      if (ev.object.metadata?.annotations) entry.annotations = ev.object.metadata.annotations;
      lines.push(entry);
      return true;
    },
    end: () => void ended++,
  };
  const filter = (fieldSelector = '', labelSelector = ''): WatchFilter => ({
    type: pods,
    namespace: '',
    labels: parseLabelSelector(labelSelector),
    fields: parseFieldSelector(fieldSelector, pods.fieldLabels, 'Pod'),
  });
  const create = (name: string, nodeName?: string) =>
    registry.create(pods, 'default', { metadata: { name }, spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: 'c', image: 'i' }] } });
  return { clock, store, registry, pods, lines, sink, filter, create, ended: () => ended };
}

describe('watch sessions', () => {
  it('turns selector entry into ADDED and exit into DELETED, as a node agent watching its pods needs', () => {
    const { store, registry, pods, lines, sink, filter, clock, create } = setup();
    new WatchSession(store, filter('spec.nodeName=n1'), { resourceVersion: String(store.resourceVersion) }, sink, { clock }).start();
    create('elsewhere', 'n2');
    create('mine', 'n1');
    registry.patch(pods, 'default', 'mine', 'merge', { metadata: { labels: { a: 'b' } } });
    registry.delete(pods, 'default', 'mine', { gracePeriodSeconds: 0 });
    expect(lines.map((l) => `${l.type} ${l.name}`)).toEqual(['ADDED mine', 'MODIFIED mine', 'DELETED mine']);
    const labelled = setup();
    new WatchSession(labelled.store, labelled.filter('', 'app=web'), {}, labelled.sink, { clock: labelled.clock }).start();
    labelled.create('p');
    labelled.registry.patch(labelled.pods, 'default', 'p', 'merge', { metadata: { labels: { app: 'web' } } });
    labelled.registry.patch(labelled.pods, 'default', 'p', 'merge', { metadata: { labels: { app: 'db' } } });
    expect(labelled.lines.map((l) => l.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('starts from the current state for resourceVersion "0" and replays history after a given resourceVersion', () => {
    const { store, lines, sink, filter, clock, create } = setup();
    create('a');
    const mid = store.resourceVersion;
    create('b');
    new WatchSession(store, filter(), { resourceVersion: '0' }, sink, { clock }).start();
    expect(lines.map((l) => `${l.type} ${l.name}`)).toEqual(['ADDED a', 'ADDED b']);
    lines.length = 0;
    new WatchSession(store, filter(), { resourceVersion: String(mid) }, sink, { clock }).start();
    expect(lines.map((l) => `${l.type} ${l.name}`)).toEqual(['ADDED b']);
  });

  it('answers a resourceVersion older than the window with ERROR 410 and ends', () => {
    const { store, lines, sink, filter, clock, create, ended } = setup();
    const old = store.resourceVersion;
    for (let i = 0; i < 60; i++) create(`p${i}`);
    new WatchSession(store, filter(), { resourceVersion: String(old) }, sink, { clock }).start();
    expect(lines).toEqual([{ type: 'ERROR', code: 410 }]);
    expect(ended()).toBe(1);
  });

  it('sends bookmarks on the clock when asked, marks the end of initial events, and ends at timeoutSeconds', async () => {
    const { store, lines, sink, filter, clock, create, ended } = setup();
    create('a');
    new WatchSession(store, filter(), { resourceVersion: '', allowBookmarks: true, sendInitialEvents: true, timeoutSeconds: 40 }, sink, { clock, bookmarkIntervalMs: 15_000 }).start();
    expect(lines.map((l) => l.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(lines[1]?.annotations).toEqual({ 'k8s.io/initial-events-end': 'true' });
    await clock.advance(15_000);
    create('b');
    await clock.advance(15_000);
    expect(lines.map((l) => l.type)).toEqual(['ADDED', 'BOOKMARK', 'BOOKMARK', 'ADDED', 'BOOKMARK']);
    expect(lines[4]?.rv).toBe(String(store.resourceVersion));
    expect(ended()).toBe(0);
    await clock.advance(10_000);
    expect(ended()).toBe(1);
    create('c');
    expect(lines).toHaveLength(5);
  });

  it('closes a watcher whose sink reports it is too far behind', () => {
    const { store, filter, clock, create } = setup();
    let ends = 0;
    let pushes = 0;
    new WatchSession(store, filter(), { resourceVersion: String(store.resourceVersion) }, { push: () => ++pushes < 3, end: () => void ends++ }, { clock }).start();
    for (let i = 0; i < 10; i++) create(`p${i}`);
    expect(pushes).toBe(3);
    expect(ends).toBe(1);
  });
});
