import { describe, expect, it } from 'vitest';
import { startMockApiServer } from '../../fakes/apiserver/server.js';
import { realClock } from '../clock/real-clock.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { ApiEventRecorder, EVENT_CACHE_ENTRIES } from './event-recorder.js';
import { kubeClientsFromString, type KubeClients } from './kube-client.js';
import { podRef } from './events.js';

function fakeClients(calls: Array<{ op: string; t: number; body: Record<string, unknown> }>, clock: VirtualClock): KubeClients {
  const core = {
    createNamespacedEvent: async (req: { body: Record<string, unknown> }) => {
      calls.push({ op: 'create', t: clock.monotonic(), body: req.body });
      return req.body;
    },
    patchNamespacedEvent: async (req: { body: Record<string, unknown> }) => {
      calls.push({ op: 'patch', t: clock.monotonic(), body: req.body });
      return req.body;
    },
  };
  return { core } as unknown as KubeClients;
}

const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

describe('ApiEventRecorder', () => {
  it('creates an event once and bumps its count when the same event repeats', async () => {
    const clock = new VirtualClock();
    const calls: Array<{ op: string; t: number; body: Record<string, unknown> }> = [];
    const r = new ApiEventRecorder(fakeClients(calls, clock), clock, { component: 'kubelet', host: 'n' });
    r.event(podRef(pod), 'Normal', 'Pulling', 'Pulling image "x"');
    r.event(podRef(pod), 'Normal', 'Pulling', 'Pulling image "x"');
    await clock.advance(10);
    await r.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch']);
    expect(calls[0]?.body).toMatchObject({ reason: 'Pulling', type: 'Normal', count: 1, involvedObject: { kind: 'Pod', name: 'web', uid: 'u1' } });
    expect(calls[1]?.body).toMatchObject({ count: 2 });
  });

  it('remembers at most EVENT_CACHE_ENTRIES distinct events, forgetting the least recently repeated first', async () => {
    const clock = new VirtualClock();
    const calls: Array<{ op: string; t: number; body: Record<string, unknown> }> = [];
    const r = new ApiEventRecorder(fakeClients(calls, clock), clock, { component: 'kubelet', host: 'n' }, () => undefined, { qps: 0, burst: 0, maxQueued: 100_000 });
    r.event(podRef(pod), 'Normal', 'Pulled', 'first');
    r.event(podRef(pod), 'Normal', 'Pulled', 'second');
    r.event(podRef(pod), 'Normal', 'Pulled', 'first'); // now the most recent
    for (let i = 0; i < EVENT_CACHE_ENTRIES - 1; i++) r.event(podRef(pod), 'Normal', 'Started', `filler ${i}`);
    r.event(podRef(pod), 'Normal', 'Pulled', 'first');
    r.event(podRef(pod), 'Normal', 'Pulled', 'second');
    await r.flush();
    expect(calls.filter((c) => c.body['message'] === 'second').map((c) => c.op)).toEqual(['create', 'create']);
    // 'first' was repeated after 'second', so the 4,097th distinct event evicted 'second', not 'first'.
    expect(calls.filter((c) => c.op === 'patch').map((c) => c.body['count'])).toEqual([2, 3]);
  });

  it('creates a repeated event again, with its count, when the API server no longer has it', async () => {
    const clock = new VirtualClock();
    const calls: Array<{ op: string; t: number; body: Record<string, unknown> }> = [];
    const clients = fakeClients(calls, clock);
    (clients.core as unknown as { patchNamespacedEvent: () => Promise<never> }).patchNamespacedEvent = async () => {
      calls.push({ op: 'patch', t: clock.monotonic(), body: {} });
      throw Object.assign(new Error('events "web.x" not found'), { code: 404 });
    };
    const r = new ApiEventRecorder(clients, clock, { component: 'kubelet', host: 'n' });
    r.event(podRef(pod), 'Warning', 'BackOff', 'Back-off restarting failed container');
    await clock.advance(60_000);
    r.event(podRef(pod), 'Warning', 'BackOff', 'Back-off restarting failed container');
    await clock.advance(10);
    await r.flush();
    expect(calls.map((c) => c.op)).toEqual(['create', 'patch', 'create']);
    expect(calls[2]?.body).toMatchObject({ reason: 'BackOff', count: 2, metadata: { name: (calls[0]?.body['metadata'] as { name: string }).name } });
    expect(calls[2]?.body['firstTimestamp']).toBe(calls[0]?.body['firstTimestamp']);
    expect(calls[2]?.body['lastTimestamp']).not.toBe(calls[0]?.body['firstTimestamp']);
  });

  it('puts the annotations an event carries into its metadata, and none when it carries none', async () => {
    const clock = new VirtualClock();
    const calls: Array<{ op: string; t: number; body: Record<string, unknown> }> = [];
    const r = new ApiEventRecorder(fakeClients(calls, clock), clock, { component: 'kubelet', host: 'n' });
    r.event(podRef(pod), 'Warning', 'Evicted', 'The node was low on resource: memory. ', { offending_containers: 'app', starved_resource: 'memory' });
    r.event(podRef(pod), 'Normal', 'Pulled', 'done');
    await clock.advance(10);
    await r.flush();
    expect((calls[0]?.body['metadata'] as { annotations?: unknown }).annotations).toEqual({ offending_containers: 'app', starved_resource: 'memory' });
    expect(calls[1]?.body['metadata']).not.toHaveProperty('annotations');
  });

  it('writes at most eventBurst at once and then eventRecordQPS per second, dropping beyond the queue bound', async () => {
    const clock = new VirtualClock();
    const calls: Array<{ op: string; t: number; body: Record<string, unknown> }> = [];
    const r = new ApiEventRecorder(fakeClients(calls, clock), clock, { component: 'kubelet', host: 'n' }, () => undefined, { qps: 1, burst: 2, maxQueued: 4 });
    for (let i = 0; i < 6; i++) r.event(podRef(pod), 'Normal', 'Started', `message ${i}`);
    await clock.advance(5_000);
    await r.flush();
    expect(calls.map((c) => c.t)).toEqual([0, 0, 1000, 2000]);
    expect(r.dropped).toBe(2);
  });

  it('writes events to an API server and bumps the count of a repeated one there', async () => {
    const api = await startMockApiServer();
    try {
      const clients = kubeClientsFromString(api.kubeconfig());
      const r = new ApiEventRecorder(clients, realClock, { component: 'kubelet', host: 'n' });
      r.event(podRef(pod), 'Normal', 'Pulled', 'Container image "x" already present on machine');
      r.event(podRef(pod), 'Normal', 'Pulled', 'Container image "x" already present on machine');
      r.event(podRef(pod), 'Warning', 'BackOff', 'Back-off restarting failed container');
      await r.flush();
      r.close();
      const { items } = await clients.core.listNamespacedEvent({ namespace: 'default' });
      const byReason = Object.fromEntries(items.map((e) => [e.reason, e]));
      expect(items).toHaveLength(2);
      expect(byReason['Pulled']).toMatchObject({ count: 2, type: 'Normal', involvedObject: { kind: 'Pod', name: 'web', uid: 'u1' }, source: { component: 'kubelet', host: 'n' } });
      expect(byReason['BackOff']).toMatchObject({ count: 1, type: 'Warning', message: 'Back-off restarting failed container' });
    } finally {
      await api.close();
    }
  });
});
