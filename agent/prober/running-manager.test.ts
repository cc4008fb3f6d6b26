import * as http from 'node:http';
import type { V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { match } from '../../fakes/journal/journal.js';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { createKubeletMetrics, type KubeletMetrics } from '../metrics/kubelet-metrics.js';
import { runContainer, startFakeRuntime, type FakeRuntimeFixture, type RunningContainer } from './handlers/test-fixtures.js';
import { RunningProbeManager } from './running-manager.js';
import type { ProbeResult, ProbeType } from './types.js';

/**
 * The running prober on a virtual clock against the fake CRI. A small stand-in for PLEG and the status
 * manager rebuilds each pod's status from the runtime after every timer, as the kubelet would.
 */

interface Harness {
  readonly clock: VirtualClock;
  readonly fixture: FakeRuntimeFixture;
  readonly prober: RunningProbeManager;
  readonly metrics: KubeletMetrics;
  readonly recorder: MemoryEventRecorder;
  readonly updates: Array<{ t: number; probeType: ProbeType; containerId: string; result: ProbeResult }>;
  /** Virtual seconds at which each handler run was counted. */
  readonly runs: Array<{ t: number; probeType: string; result: string; pod: string }>;
  add(pod: V1Pod, container: RunningContainer): Promise<void>;
  /** Moves virtual time forward timer by timer, letting probes finish and statuses refresh in between. */
  step(ms: number): Promise<void>;
}

let current: Harness | undefined;
afterEach(async () => {
  current?.prober.stop();
  await current?.fixture.close();
  current = undefined;
});

async function harness(options: { advanceBeforeStartMs?: number; triggerReadiness?: boolean } = {}): Promise<Harness> {
  const clock = new VirtualClock();
  const fixture = await startFakeRuntime(clock);
  await fixture.cri.pullImage({ image: { image: 'nginx' } });
  if (options.advanceBeforeStartMs) await clock.advance(options.advanceBeforeStartMs);
  const statuses = new Map<string, V1PodStatus>();
  const tracked: Array<{ pod: V1Pod; container: RunningContainer }> = [];
  const added = new Set<string>();
  const metrics = createKubeletMetrics();
  const recorder = new MemoryEventRecorder();
  const runs: Harness['runs'] = [];
  const prober = new RunningProbeManager({
    clock,
    podStatus: (uid) => statuses.get(uid),
    cri: fixture.cri,
    kubeletVersion: 'v1.34.0-harness',
    metrics,
    recorder,
    random: () => 0.5,
    onProbe: (o) => runs.push({ t: clock.monotonic() / 1000, probeType: o.probeType, result: o.result, pod: o.pod }),
  });
  const updates: Harness['updates'] = [];
  prober.onResult((u) => updates.push({ t: clock.monotonic() / 1000, probeType: u.probeType, containerId: u.containerId, result: u.result }));

  const refresh = async (): Promise<void> => {
    for (const { pod, container } of tracked) {
      const { status } = await fixture.cri.containerStatus({ containerId: container.containerId });
      const uid = pod.metadata!.uid!;
      const name = pod.spec!.containers[0]!.name;
      const running = status?.state === 'CONTAINER_RUNNING';
      let { started, ready } = prober.containerStatus(uid, name, { containerId: container.containerId, running });
      if (!added.has(uid)) {
        // Before AddPod: as the kubelet reports it once the workers exist (they are made before containers run).
        const spec = pod.spec!.containers[0]!;
        started = running && !spec.startupProbe;
        ready = started && !spec.readinessProbe;
      }
      const startedAt = new Date(Number(BigInt(status?.startedAt ?? '0') / 1_000_000n));
      const podStatus: V1PodStatus = {
        phase: 'Running',
        podIP: container.podIP,
        containerStatuses: [
          {
            name,
            image: 'busybox',
            imageID: '',
            restartCount: 0,
            containerID: `containerd://${container.containerId}`,
            state: running ? { running: { startedAt } } : { terminated: { exitCode: status?.exitCode ?? 0 } },
            started,
            ready,
          },
        ],
      };
      statuses.set(uid, podStatus);
      if (options.triggerReadiness ?? true) prober.updatePodStatus(uid, podStatus);
    }
  };

  const h: Harness = {
    clock,
    fixture,
    prober,
    metrics,
    recorder,
    updates,
    runs,
    async add(pod, container) {
      tracked.push({ pod, container });
      await refresh();
      prober.addPod(pod);
      added.add(pod.metadata!.uid!);
      await prober.idle();
      await refresh();
      await prober.idle();
    },
    async step(ms) {
      await clock.advanceSettling(ms, async () => {
        await prober.idle();
        await refresh();
        await prober.idle();
      });
    },
  };
  current = h;
  return h;
}

function podWith(name: string, probes: { liveness?: V1Probe; readiness?: V1Probe; startup?: V1Probe }, ports: Array<{ name: string; containerPort: number }> = []): V1Pod {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: {
      restartPolicy: 'Always',
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ports,
          ...(probes.liveness ? { livenessProbe: probes.liveness } : {}),
          ...(probes.readiness ? { readinessProbe: probes.readiness } : {}),
          ...(probes.startup ? { startupProbe: probes.startup } : {}),
        },
      ],
    },
  };
}

async function metricValue(metrics: KubeletMetrics, labels: Record<string, string>): Promise<number> {
  const { values } = await metrics.proberProbeTotal.get();
  return values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k as keyof typeof v.labels] === val))?.value ?? 0;
}

async function waitForHttp(ip: string, port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: ip, port, path: '/__ready', agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`nothing listens on ${ip}:${port}`);
}

describe('the running prober', () => {
  it('caches a liveness Failure 40-45 s into the classic exec example (healthy for 30 s, period 5 s, failureThreshold 3), then holds', async () => {
    const h = await harness();
    const container = await runContainer(h.fixture, {
      pod: 'liveness-exec',
      name: 'app',
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600'],
    });
    const pod = podWith('liveness-exec', { liveness: { exec: { command: ['cat', '/tmp/healthy'] }, initialDelaySeconds: 5, periodSeconds: 5 } });
    await h.add(pod, container);
    await h.step(60_000);

    const liveness = h.updates.filter((u) => u.probeType === 'liveness');
    expect(liveness[0]).toEqual({ t: 0, probeType: 'liveness', containerId: container.containerId, result: 'Success' });
    const failure = liveness.find((u) => u.result === 'Failure');
    expect(failure).toBeDefined();
    expect(failure!.t).toBeGreaterThanOrEqual(40);
    expect(failure!.t).toBeLessThanOrEqual(45);
    expect(h.prober.caches.liveness.get(container.containerId)).toBe('Failure');

    // Nothing runs before initialDelaySeconds; then one run per period until the failure, then on hold.
    const times = h.runs.map((r) => r.t);
    expect(times[0]).toBe(5);
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 5)).toBe(true);
    expect(times[times.length - 1]).toBe(failure!.t);
    const execs = h.fixture.fake.journal.entries(match('cri', 'ExecSync')).length;
    expect(execs).toBe(times.length);
    await h.step(30_000);
    expect(h.fixture.fake.journal.entries(match('cri', 'ExecSync'))).toHaveLength(execs);

    expect(await metricValue(h.metrics, { probe_type: 'Liveness', result: 'failed', pod: 'liveness-exec', container: 'app', namespace: 'default', pod_uid: 'uid-liveness-exec' })).toBe(3);
    expect(await metricValue(h.metrics, { probe_type: 'Liveness', result: 'successful' })).toBe(times.length - 3);
    const unhealthy = h.recorder.events.filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy).toHaveLength(3);
    expect(unhealthy[0]!.message).toMatch(/^Liveness probe failed: cat: can't open '\/tmp\/healthy'/);
    expect(unhealthy[0]!.ref.fieldPath).toBe('spec.containers{app}');
  });

  it('marks an HTTP readiness probe Success at once and Failure after three 500s (200 for 20 s then 500)', async () => {
    const h = await harness();
    const container = await runContainer(h.fixture, {
      pod: 'web',
      name: 'app',
      image: 'nginx',
      command: [],
      env: { FAKE_HTTP_PORTS: '8080', FAKE_HTTP_SCHEDULE: '/ready=200 for 20s then 500' },
    });
    await waitForHttp(container.podIP, 8080);
    const pod = podWith('web', { readiness: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 5 } }, [{ name: 'http', containerPort: 8080 }]);
    await h.add(pod, container);
    await h.step(40_000);

    const readiness = h.updates.filter((u) => u.probeType === 'readiness').map((u) => [u.t, u.result]);
    expect(readiness).toEqual([
      [0, 'Failure'],
      [0, 'Success'],
      [30, 'Failure'],
    ]);
    expect(h.prober.containerStatus('uid-web', 'app', { containerId: container.containerId, running: true })).toEqual({ started: true, ready: false, triggerReadiness: true });
    const requests = h.fixture.fake.journal.entries((e) => e.name === 'ProbeRequestReceived' && (e.request as { path?: string }).path === '/ready');
    expect(requests.length).toBeGreaterThanOrEqual(7);
    expect(requests.every((e) => (e.request as { userAgent?: string }).userAgent === 'kube-probe/1.34')).toBe(true);
    expect(await metricValue(h.metrics, { probe_type: 'Readiness', result: 'successful' })).toBe(4);
    expect(h.recorder.events.filter((e) => e.message === 'Readiness probe failed: HTTP probe failed with statuscode: 500').length).toBeGreaterThanOrEqual(3);
  });

  it('spreads the first run over a period only for containers already running when the kubelet started', async () => {
    const h = await harness();
    const old = await runContainer(h.fixture, { pod: 'old', name: 'app', command: ['sh', '-c', 'touch /tmp/ok; sleep 600'] });
    // The kubelet (this prober) starts 1 s after the container did.
    await h.clock.advance(1000);
    const late = new RunningProbeManager({
      clock: h.clock,
      podStatus: () => ({
        phase: 'Running',
        containerStatuses: [
          { name: 'app', image: '', imageID: '', restartCount: 0, ready: false, started: true, containerID: `containerd://${old.containerId}`, state: { running: { startedAt: new Date(h.clock.now() - 1000) } } },
        ],
      }),
      cri: h.fixture.cri,
      random: () => 0.5,
    });
    const seen: number[] = [];
    late.onResult((u) => u.result === 'Success' && seen.push(h.clock.monotonic()));
    late.addPod(podWith('old', { readiness: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: 10 } }));
    await late.idle();
    expect(seen).toEqual([]);
    for (let i = 0; i < 10 && seen.length === 0; i++) {
      await h.clock.advance(1000);
      await late.idle();
    }
    // Jitter = 0.5 × period after kubelet start (t = 1 s).
    expect(seen).toEqual([6000]);
    late.stop();

    // A container started after the kubelet: probed at once.
    const fresh = await runContainer(h.fixture, { pod: 'fresh', name: 'app', command: ['sh', '-c', 'touch /tmp/ok; sleep 600'] });
    await h.add(podWith('fresh', { readiness: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: 10 } }), fresh);
    expect(h.updates.filter((u) => u.containerId === fresh.containerId).map((u) => [u.t, u.result])).toEqual([
      [6, 'Failure'],
      [6, 'Success'],
    ]);
  });

  it('runs a readiness probe early when the status shows a started container that is not ready yet', async () => {
    for (const trigger of [true, false]) {
      const h = await harness({ triggerReadiness: trigger });
      const container = await runContainer(h.fixture, { pod: 'slow', name: 'app', command: ['sh', '-c', 'sleep 3; touch /tmp/ready; sleep 600'] });
      await h.add(podWith('slow', { readiness: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 60 } }), container);
      await h.step(61_000);
      const success = h.updates.find((u) => u.probeType === 'readiness' && u.result === 'Success');
      expect(success?.t).toBe(trigger ? 3 : 60);
      h.prober.stop();
      await h.fixture.close();
      current = undefined;
    }
  });

  it('gates liveness on the startup probe, stops liveness and startup first on termination, then everything on RemovePod', async () => {
    const h = await harness();
    const container = await runContainer(h.fixture, { pod: 'gated', name: 'app', command: ['sh', '-c', 'sleep 12; touch /tmp/up; sleep 600'] });
    const pod = podWith('gated', {
      startup: { exec: { command: ['cat', '/tmp/up'] }, periodSeconds: 5, failureThreshold: 10 },
      liveness: { exec: { command: ['cat', '/tmp/up'] }, periodSeconds: 5 },
      readiness: { exec: { command: ['cat', '/tmp/up'] }, periodSeconds: 5 },
    });
    await h.add(pod, container);
    await h.step(30_000);
    const firstLiveness = h.runs.find((r) => r.probeType === 'Liveness');
    const startupSuccess = h.updates.find((u) => u.probeType === 'startup' && u.result === 'Success');
    expect(startupSuccess?.t).toBe(15);
    expect(firstLiveness!.t).toBeGreaterThan(15);
    expect(h.runs.filter((r) => r.probeType === 'Liveness' && r.t <= 15)).toEqual([]);
    expect(h.prober.loopCount).toBe(3);

    h.prober.stopLivenessAndStartup('uid-gated');
    expect(h.prober.loopCount).toBe(1);
    const before = h.runs.length;
    await h.step(11_000);
    const during = h.runs.slice(before).map((r) => r.probeType);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.every((t) => t === 'Readiness')).toBe(true);

    h.prober.removePod('uid-gated');
    expect(h.prober.loopCount).toBe(0);
    const after = h.fixture.fake.journal.entries(match('cri', 'ExecSync')).length;
    await h.step(20_000);
    expect(h.fixture.fake.journal.entries(match('cri', 'ExecSync'))).toHaveLength(after);
  });

  it('probes gRPC health and TCP ports the fake containers serve on their pod IPs', async () => {
    const h = await harness();
    const grpcContainer = await runContainer(h.fixture, {
      pod: 'grpc',
      name: 'app',
      image: 'nginx',
      command: [],
      env: { FAKE_GRPC_PORTS: '9090', FAKE_GRPC_HEALTH: 'SERVING for 12s then NOT_SERVING' },
    });
    const tcpContainer = await runContainer(h.fixture, {
      pod: 'tcp',
      name: 'app',
      image: 'nginx',
      command: [],
      env: { FAKE_TCP_PORTS: '7000', FAKE_TCP: 'accept for 8s then refuse' },
    });
    // Give the fake's listeners a moment to bind (real sockets).
    await new Promise((r) => setTimeout(r, 100));
    await h.add(podWith('grpc', { liveness: { grpc: { port: 9090 }, periodSeconds: 5, failureThreshold: 2 } }), grpcContainer);
    await h.add(podWith('tcp', { readiness: { tcpSocket: { port: 'db' }, periodSeconds: 5 } }, [{ name: 'db', containerPort: 7000 }]), tcpContainer);
    await h.step(30_000);
    const byContainer = (id: string) => h.updates.filter((u) => u.containerId === id).map((u) => [u.t, u.probeType, u.result]);
    // gRPC: SERVING at 0, 5, 10; NOT_SERVING at 15 and 20 → Failure with failureThreshold 2.
    expect(byContainer(grpcContainer.containerId)).toEqual([
      [0, 'liveness', 'Success'],
      [20, 'liveness', 'Failure'],
    ]);
    // TCP: accepted at 0 and 5; refused from 10 on → Failure after three refusals.
    expect(byContainer(tcpContainer.containerId)).toEqual([
      [0, 'readiness', 'Failure'],
      [0, 'readiness', 'Success'],
      [20, 'readiness', 'Failure'],
    ]);
    const grpcChecks = h.fixture.fake.journal.entries((e) => e.name === 'ProbeRequestReceived' && (e.request as { protocol?: string }).protocol === 'grpc');
    expect(grpcChecks.map((e) => (e.request as { status?: string }).status)).toEqual(['SERVING', 'SERVING', 'SERVING', 'NOT_SERVING', 'NOT_SERVING']);
  });

  it('starts the valid workers of a pod whose other probe is invalid, and reports the invalid one by field', async () => {
    const h = await harness();
    const container = await runContainer(h.fixture, { pod: 'half', name: 'app', command: ['sh', '-c', 'touch /tmp/ok; sleep 600'] });
    const pod = podWith('half', {
      liveness: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: 5 },
      readiness: { exec: { command: ['cat', '/tmp/ok'] }, periodSeconds: -1 },
    });
    await h.add(podWith('half', {}), container);
    expect(() => h.prober.addPod(pod)).toThrow('spec.containers[0].readinessProbe.periodSeconds');
    expect(h.prober.loopCount).toBe(1);
    await h.prober.idle();
    await h.step(11_000);
    expect(h.runs.map((r) => [r.t, r.probeType])).toEqual([
      [0, 'Liveness'],
      [5, 'Liveness'],
      [10, 'Liveness'],
    ]);
    // The next sync's AddPod neither duplicates the loop nor loses it.
    expect(() => h.prober.addPod(pod)).toThrow();
    expect(h.prober.loopCount).toBe(1);
  });
});
