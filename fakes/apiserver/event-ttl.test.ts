import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { ApiEventRecorder } from '../../agent/api/event-recorder.js';
import { podRef } from '../../agent/api/events.js';
import { kubeClientsFromString } from '../../agent/api/kube-client.js';
import { DEFAULT_EVENT_TTL_MS, EventExpiry } from './event-ttl.js';
import { ApiRegistry } from './registry.js';
import { startMockApiServer } from './server.js';
import { ObjectStore, type StoreChange } from './store.js';

const MINUTE = 60_000;

function setup(ttlMs: number) {
  const clock = new VirtualClock();
  const store = new ObjectStore();
  const registry = new ApiRegistry(store, clock);
  registry.bootstrap();
  const events = registry.type('', 'events');
  const expiry = new EventExpiry({ store, clock, ttlMs, remove: (ns, name) => registry.delete(events, ns, name) });
  const changes: StoreChange[] = [];
  store.subscribe((c) => {
    if (c.resource === 'events') changes.push(c);
  });
  const record = (name: string, count = 1) => {
    const body = { metadata: { name }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Started', message: 'm', count };
    return store.get('events', 'default', name) ? registry.patch(events, 'default', name, 'merge', { count }) : registry.create(events, 'default', body);
  };
  return { clock, store, registry, expiry, changes, record };
}

describe('event TTL', () => {
  it('defaults to kube-apiserver\'s one hour', () => {
    expect(DEFAULT_EVENT_TTL_MS).toBe(60 * MINUTE);
  });

  it('deletes an event once the TTL has passed since its creation, and watchers see DELETED with its last state', async () => {
    const { clock, store, changes, record } = setup(10 * MINUTE);
    const created = record('a');
    await clock.advance(10 * MINUTE - 1);
    expect(store.get('events', 'default', 'a')).toBeDefined();
    await clock.advance(1);
    expect(store.get('events', 'default', 'a')).toBeUndefined();
    const deleted = changes.at(-1);
    expect(deleted?.type).toBe('DELETED');
    expect(deleted?.current.object.metadata.uid).toBe(created.object.metadata.uid);
    expect(deleted?.rv).toBeGreaterThan(created.rv);
  });

  it('starts the TTL over on every write of the event, as a fresh etcd lease does', async () => {
    const { clock, store, record } = setup(10 * MINUTE);
    record('a');
    await clock.advance(8 * MINUTE);
    record('a', 2);
    await clock.advance(8 * MINUTE);
    expect(store.get('events', 'default', 'a')?.object['count']).toBe(2);
    await clock.advance(2 * MINUTE);
    expect(store.get('events', 'default', 'a')).toBeUndefined();
  });

  it('expires events in the order of their last write and keeps one timer for all of them', async () => {
    const { clock, store, expiry, record } = setup(10 * MINUTE);
    for (const name of ['a', 'b', 'c']) {
      record(name);
      await clock.advance(MINUTE);
    }
    record('a', 2);
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(8 * MINUTE);
    expect(store.list('events').map((e) => e.name)).toEqual(['a', 'c']);
    await clock.advance(MINUTE);
    expect(store.list('events').map((e) => e.name)).toEqual(['a']);
    await clock.advance(MINUTE);
    expect(store.list('events')).toEqual([]);
    expect(expiry.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('forgets an event deleted by a client before its TTL without touching anything later', async () => {
    const { clock, store, registry, changes, record } = setup(10 * MINUTE);
    record('a');
    registry.delete(registry.type('', 'events'), 'default', 'a');
    const rv = store.resourceVersion;
    await clock.advance(20 * MINUTE);
    expect(store.resourceVersion).toBe(rv);
    expect(changes.map((c) => c.type)).toEqual(['ADDED', 'DELETED']);
  });

  it('refuses a TTL that is not a positive duration, naming the option', () => {
    const store = new ObjectStore();
    for (const ttlMs of [0, -1, Number.NaN]) {
      expect(() => new EventExpiry({ store, clock: new VirtualClock(), ttlMs, remove: () => undefined })).toThrow(/eventTtlMs/);
    }
  });

  it('lets the agent\'s recorder create an expired event again with its count, against the HTTP server', async () => {
    const clock = new VirtualClock({ startWallMs: Date.now() });
    const api = await startMockApiServer({ clock, eventTtlMs: 5 * MINUTE });
    try {
      const clients = kubeClientsFromString(api.kubeconfig());
      const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };
      const recorder = new ApiEventRecorder(clients, realClock, { component: 'kubelet', host: 'n' }, () => undefined, { qps: 0, burst: 1 });
      recorder.event(podRef(pod), 'Warning', 'BackOff', 'Back-off restarting failed container');
      await recorder.flush();
      expect((await clients.core.listNamespacedEvent({ namespace: 'default' })).items).toHaveLength(1);
      await clock.advance(5 * MINUTE);
      expect((await clients.core.listNamespacedEvent({ namespace: 'default' })).items).toHaveLength(0);
      recorder.event(podRef(pod), 'Warning', 'BackOff', 'Back-off restarting failed container');
      await recorder.flush();
      recorder.close();
      const { items } = await clients.core.listNamespacedEvent({ namespace: 'default' });
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ reason: 'BackOff', count: 2 });
    } finally {
      await api.close();
    }
  });
});
