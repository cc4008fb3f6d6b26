import { describe, expect, it } from 'vitest';
import { startMockApiServer } from '../../fakes/apiserver/server.js';
import { realClock } from '../clock/real-clock.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { ApiEventRecorder } from './event-recorder.js';
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
