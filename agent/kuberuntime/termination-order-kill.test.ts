import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { CrashLoopBackOff } from '../lifecycle/backoff.js';
import { createCriClient, type CriClient } from '../runtime/cri-client.js';
import { startFakeCri, type FakeCri } from '../../fakes/cri/index.js';
import { NO_PROBE_RESULTS } from './compute-pod-actions.js';
import { ImagePuller } from './image-puller.js';
import { KubeRuntimeManager } from './runtime-manager.js';

/**
 * The pod kill path end to end on the fake runtime, in virtual time: the agent's runtime manager syncs a
 * pod with sidecars until it runs, then kills it; every StopContainer is timed from the agent's side
 * (when it was sent, with which timeout, when it returned).
 */

interface Stop {
  readonly name: string;
  readonly sentAt: number;
  readonly timeout: number;
  returnedAt?: number;
}

const image = 'registry.local/busybox:1.36';
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function sh(name: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

/** Exits `delay` seconds after SIGTERM (0: at once). */
const exitsAfterTerm = (delay: number) => `trap '${delay > 0 ? `sleep ${delay}; ` : ''}exit 0' TERM; sleep 3600 & wait`;

/** Runs `work` while moving virtual time in 100 ms steps until it settles. */
async function drive<T>(clock: VirtualClock, work: Promise<T>, limitMs = 120_000): Promise<T> {
  let settled = false;
  const tracked = work.finally(() => (settled = true));
  const until = clock.monotonic() + limitMs;
  while (!settled && clock.monotonic() < until) await clock.advance(100);
  if (!settled) throw new Error(`still pending after ${limitMs} ms of virtual time`);
  return tracked;
}

async function setup(): Promise<{ clock: VirtualClock; manager: KubeRuntimeManager; stops: Map<string, Stop> }> {
  const clock = new VirtualClock();
  const dir = mkdtempSync(join(tmpdir(), 'kh-term-order-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const fake: FakeCri = await startFakeCri({ clock, cniNetwork: false });
  cleanup.push(() => fake.close());
  const inner = createCriClient({ runtimeEndpoint: fake.endpoint, clock });
  cleanup.push(() => inner.close());
  const names = new Map<string, string>();
  const stops = new Map<string, Stop>();
  // Learns container names from CreateContainer and times every StopContainer.
  const cri = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'createContainer') {
        return async (req: NonNullable<Parameters<CriClient['createContainer']>[0]>) => {
          const res = await target.createContainer(req);
          names.set(res.containerId, req.config?.metadata?.name ?? '');
          return res;
        };
      }
      if (prop === 'stopContainer') {
        return async (req: NonNullable<Parameters<CriClient['stopContainer']>[0]>) => {
          const name = names.get(req.containerId ?? '') ?? '?';
          const stop: Stop = { name, sentAt: clock.monotonic(), timeout: Number(req.timeout) };
          stops.set(name, stop);
          const res = await target.stopContainer(req);
          stop.returnedAt = clock.monotonic();
          return res;
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  }) as CriClient;
  const recorder: EventRecorder = { event: () => undefined };
  const manager = new KubeRuntimeManager({
    cri,
    clock,
    recorder,
    imagePuller: new ImagePuller(cri, clock, recorder),
    crashLoopBackOff: new CrashLoopBackOff(),
    settings: {
      cgroupDriver: 'cgroupfs',
      cgroupsPerQOS: false,
      podLogsDir: join(dir, 'pod-logs'),
      dns: { clusterDNS: [], clusterDomain: 'cluster.local', hostResolvConf: null },
      resources: { memoryCapacityBytes: 8n << 30n },
    },
    nodeName: 'node-a',
    hostIPs: () => ['127.0.0.1'],
    nodeAllocatable: () => ({ cpuMilli: 4000n, memoryBytes: 8n << 30n }),
    runtimeHandler: async () => '',
    runtimeName: () => 'fake',
  });
  return { clock, manager, stops };
}

/** Syncs until every container of the pod (sidecars included) is running. */
async function runPod(clock: VirtualClock, manager: KubeRuntimeManager, pod: V1Pod): Promise<void> {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  const want = [...sidecars, ...(pod.spec?.containers ?? [])].map((c) => c.name).sort();
  for (let i = 0; i < 20; i++) {
    const runtime = await drive(clock, manager.getPodStatus('uid-1', 'web', 'default'));
    const running = runtime.containerStatuses.filter((c) => c.state === 'running').map((c) => c.name).sort();
    if (JSON.stringify(running) === JSON.stringify(want)) return;
    const result = await drive(clock, manager.syncPod({ pod, runtime, probes: NO_PROBE_RESULTS, volumes: new Map(), configMaps: new Map(), secrets: new Map() }));
    if (result.error) throw result.error;
  }
  throw new Error(`the pod never ran all of ${want.join(', ')}`);
}

function podWith(spec: NonNullable<V1Pod['spec']>): V1Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1' }, spec };
}

describe('killing a pod with sidecars on the fake runtime', () => {
  it('stops the regular containers first, then the sidecars in reverse order, each timeout reduced by the seconds it waited', async () => {
    const { clock, manager, stops } = await setup();
    const pod = podWith({
      terminationGracePeriodSeconds: 30,
      initContainers: [sh('first', exitsAfterTerm(0), { restartPolicy: 'Always' }), sh('second', exitsAfterTerm(1), { restartPolicy: 'Always' })],
      containers: [sh('app', exitsAfterTerm(3)), sh('other', exitsAfterTerm(0))],
    });
    await runPod(clock, manager, pod);
    const runtime = await drive(clock, manager.getPodStatus('uid-1', 'web', 'default'));
    const t0 = clock.monotonic();
    await drive(clock, manager.killPod(pod, runtime));

    const at = (name: string) => {
      const s = stops.get(name);
      if (!s) throw new Error(`no StopContainer for ${name}`);
      return { sent: s.sentAt - t0, returned: (s.returnedAt ?? Number.NaN) - t0, timeout: s.timeout };
    };
    // Regular containers: stopped at once with the whole grace period.
    expect(at('app')).toMatchObject({ sent: 0, timeout: 30 });
    expect(at('other')).toMatchObject({ sent: 0, timeout: 30 });
    expect(at('app').returned).toBeGreaterThanOrEqual(3_000);
    // The later sidecar goes when the last regular container has exited, the earlier one after it.
    expect(at('second').sent).toBeGreaterThanOrEqual(at('app').returned);
    expect(at('second').timeout).toBe(30 - Math.trunc(at('second').sent / 1000));
    expect(at('first').sent).toBeGreaterThanOrEqual(at('second').returned);
    expect(at('second').returned).toBeGreaterThanOrEqual(at('second').sent + 1_000);
    expect(at('first').timeout).toBe(30 - Math.trunc(at('first').sent / 1000));
    expect(at('first').timeout).toBeLessThanOrEqual(26);
    const after = await drive(clock, manager.getPodStatus('uid-1', 'web', 'default'));
    expect(after.containerStatuses.filter((c) => c.state === 'running')).toEqual([]);
    expect(after.sandboxStatuses.every((s) => s.state === 'notready')).toBe(true);
  });

  it('stops a sidecar anyway, with the 2 s minimum, when its grace period runs out while it waits', async () => {
    const { clock, manager, stops } = await setup();
    const pod = podWith({
      terminationGracePeriodSeconds: 10,
      initContainers: [sh('proxy', exitsAfterTerm(0), { restartPolicy: 'Always' })],
      // The app's preStop outlasts the grace period; its own stop comes only when the hook is cut off.
      containers: [sh('app', 'sleep 3600', { lifecycle: { preStop: { sleep: { seconds: 20 } } } })],
    });
    await runPod(clock, manager, pod);
    const runtime = await drive(clock, manager.getPodStatus('uid-1', 'web', 'default'));
    const t0 = clock.monotonic();
    await drive(clock, manager.killPod(pod, runtime));
    const proxy = stops.get('proxy')!;
    const app = stops.get('app')!;
    expect(proxy.sentAt - t0).toBe(10_000);
    expect(proxy.timeout).toBe(2);
    // The app (PID 1 ignoring SIGTERM) is stopped after its cut-off preStop with the 2 s floor too.
    expect(app.sentAt - t0).toBe(10_000);
    expect(app.timeout).toBe(2);
    expect(app.returnedAt! - t0).toBeGreaterThanOrEqual(12_000);
  });

  it('kills every container of a pod without sidecars at once', async () => {
    const { clock, manager, stops } = await setup();
    const pod = podWith({
      terminationGracePeriodSeconds: 30,
      initContainers: [sh('setup', 'exit 0')],
      containers: [sh('app', exitsAfterTerm(2)), sh('other', exitsAfterTerm(0))],
    });
    await runPod(clock, manager, pod);
    const runtime = await drive(clock, manager.getPodStatus('uid-1', 'web', 'default'));
    const t0 = clock.monotonic();
    await drive(clock, manager.killPod(pod, runtime));
    expect([...stops.keys()].sort()).toEqual(['app', 'other']);
    for (const s of stops.values()) expect({ sent: s.sentAt - t0, timeout: s.timeout }).toEqual({ sent: 0, timeout: 30 });
  });
});
