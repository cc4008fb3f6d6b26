import { afterEach, describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { VirtualClock } from '../clock/index.js';
import { createKubeletMetrics, startHealthAndMetricsServer, type HealthAndMetricsServer, type HealthResult } from './index.js';

let server: HealthAndMetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function scrape(url: string): Promise<{ status: number; type: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
}

/** `# TYPE name type` lines of an exposition. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]));
}

describe('kubelet metrics', () => {
  it('exposes every upstream metric name with its upstream type on a private registry', async () => {
    const metrics = createKubeletMetrics();
    server = await startHealthAndMetricsServer({ port: 0, registry: metrics.registry, healthz: () => ({ ok: true }) });
    const { status, type, body } = await scrape(`${server.url}/metrics`);
    expect(status).toBe(200);
    expect(type).toContain('text/plain');
    const t = types(body);
    const expected: Record<string, string> = {
      kubelet_running_pods: 'gauge',
      kubelet_running_containers: 'gauge',
      kubelet_pod_start_duration_seconds: 'histogram',
      kubelet_pod_start_sli_duration_seconds: 'histogram',
      kubelet_pod_worker_duration_seconds: 'histogram',
      kubelet_pod_worker_start_duration_seconds: 'histogram',
      kubelet_cgroup_manager_duration_seconds: 'histogram',
      kubelet_pleg_relist_duration_seconds: 'histogram',
      kubelet_pleg_relist_interval_seconds: 'histogram',
      kubelet_runtime_operations_total: 'counter',
      kubelet_runtime_operations_errors_total: 'counter',
      kubelet_runtime_operations_duration_seconds: 'histogram',
      kubelet_evictions: 'counter',
      kubelet_started_pods_total: 'counter',
      kubelet_started_containers_total: 'counter',
      kubelet_restarted_pods_total: 'counter',
      kubelet_orphaned_runtime_pods_total: 'counter',
      kubelet_node_name: 'gauge',
      kubelet_node_config_error: 'gauge',
      prober_probe_total: 'counter',
      prober_probe_duration_seconds: 'histogram',
      volume_manager_total_volumes: 'gauge',
      kubelet_containers_per_pod_count: 'histogram',
    };
    for (const [name, kind] of Object.entries(expected)) expect(t.get(name), name).toBe(kind);
    // Nothing leaks into prom-client's global registry.
    expect(await globalRegistry.metrics()).not.toContain('kubelet_');
  });

  it('uses the upstream buckets for pod start, runtime operations and containers per pod', async () => {
    const metrics = createKubeletMetrics();
    metrics.podStartDuration.observe(7);
    metrics.runtimeOperationsDuration.observe({ operation_type: 'run_podsandbox' }, 0.02);
    metrics.containersPerPod.observe(3);
    metrics.podWorkerDuration.observe({ operation_type: 'create' }, 0.3);
    const text = await metrics.registry.metrics();
    const les = (name: string): string[] =>
      [...text.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"`, 'gm'))].map((m) => m[1] as string);
    expect(les('kubelet_pod_start_duration_seconds')).toEqual([
      '0.5', '1', '2', '3', '4', '5', '6', '8', '10', '20', '30', '45', '60', '120', '180', '240', '300', '360', '480',
      '600', '900', '1200', '1800', '2700', '3600', '+Inf',
    ]);
    const runtime = les('kubelet_runtime_operations_duration_seconds').map(Number);
    expect(runtime).toHaveLength(15);
    expect(runtime[0]).toBeCloseTo(0.005);
    expect(runtime[13]).toBeCloseTo(0.005 * 2.5 ** 13);
    expect(les('kubelet_containers_per_pod_count')).toEqual(['1', '2', '4', '8', '16', '+Inf']);
    expect(les('kubelet_pod_worker_duration_seconds')).toEqual([
      '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf',
    ]);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_bucket\{le="8"\} 1$/m);
    expect(text).toMatch(/^kubelet_pod_start_duration_seconds_bucket\{le="6"\} 0$/m);
  });

  it('times runtime operations on the injected clock and counts failures', async () => {
    const clock = new VirtualClock();
    const metrics = createKubeletMetrics();
    const ok = metrics.timeRuntimeOperation('pull_image', clock, async () => {
      await clock.sleep(2500);
      return 'sha256:abc';
    });
    await clock.advance(2500);
    await expect(ok).resolves.toBe('sha256:abc');
    await expect(
      metrics.timeRuntimeOperation('pull_image', clock, () => Promise.reject(new Error('unavailable'))),
    ).rejects.toThrow('unavailable');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^kubelet_runtime_operations_total\{operation_type="pull_image"\} 2$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_errors_total\{operation_type="pull_image"\} 1$/m);
    expect(text).toMatch(/^kubelet_runtime_operations_duration_seconds_sum\{operation_type="pull_image"\} 2.5$/m);
  });

  it('labels probes, node name, running containers and reads volume counts at scrape time', async () => {
    const metrics = createKubeletMetrics();
    metrics.recordProbe({ probeType: 'Readiness', result: 'successful', container: 'web', pod: 'p', namespace: 'ns', podUid: 'u1', durationSeconds: 0.02 });
    metrics.recordProbe({ probeType: 'Readiness', result: 'failed', container: 'web', pod: 'p', namespace: 'ns', podUid: 'u1', durationSeconds: 1 });
    metrics.setNodeName('old');
    metrics.setNodeName('node-a');
    metrics.setRunningContainers({ running: 3, exited: 1 });
    let desired = 2;
    metrics.setVolumeCountsSource(() => ({ desired: { 'kubernetes.io/empty-dir': desired }, actual: { 'kubernetes.io/empty-dir': 1 } }));
    let text = await metrics.registry.metrics();
    expect(text).toContain('prober_probe_total{probe_type="Readiness",result="successful",container="web",pod="p",namespace="ns",pod_uid="u1"} 1');
    expect(text).toContain('prober_probe_total{probe_type="Readiness",result="failed",container="web",pod="p",namespace="ns",pod_uid="u1"} 1');
    // Failed probes are not timed.
    expect(text).toContain('prober_probe_duration_seconds_count{probe_type="Readiness",container="web",pod="p",namespace="ns"} 1');
    expect(text).toContain('kubelet_node_name{node="node-a"} 1');
    expect(text).not.toContain('node="old"');
    expect(text).toContain('kubelet_running_containers{container_state="running"} 3');
    expect(text).toContain('kubelet_running_containers{container_state="created"} 0');
    expect(text).toContain('volume_manager_total_volumes{plugin_name="kubernetes.io/empty-dir",state="desired_state_of_world"} 2');
    desired = 0;
    text = await metrics.registry.metrics();
    expect(text).toContain('volume_manager_total_volumes{plugin_name="kubernetes.io/empty-dir",state="desired_state_of_world"} 0');
    expect(await metrics.probesRegistry.metrics()).toContain('prober_probe_total{');
    expect(await metrics.probesRegistry.metrics()).not.toContain('kubelet_running_pods');
  });

  it('says in the help text that kubelet_node_config_error is gone upstream', async () => {
    const text = await createKubeletMetrics().registry.metrics();
    expect(text).toMatch(/^# HELP kubelet_node_config_error .*removed/m);
  });
});

describe('health and metrics server', () => {
  it('binds to loopback by default and answers /healthz from the callback', async () => {
    let health: HealthResult = { ok: true };
    const metrics = createKubeletMetrics();
    server = await startHealthAndMetricsServer({ port: 0, registry: metrics.registry, healthz: () => health });
    expect(server.host).toBe('127.0.0.1');
    expect(await scrape(`${server.url}/healthz`)).toMatchObject({ status: 200, body: 'ok' });
    health = { ok: false, reason: 'syncloop failed' };
    const failing = await scrape(`${server.url}/healthz`);
    expect(failing.status).toBe(500);
    expect(failing.body).toContain('[-]syncloop failed');
    expect((await scrape(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('serves prober metrics alone on /metrics/probes', async () => {
    const metrics = createKubeletMetrics();
    metrics.recordProbe({ probeType: 'Liveness', result: 'unknown', container: 'c', pod: 'p', namespace: 'n', podUid: 'u', durationSeconds: 0.1 });
    server = await startHealthAndMetricsServer({
      port: 0,
      registry: metrics.registry,
      probesRegistry: metrics.probesRegistry,
      healthz: () => ({ ok: true }),
    });
    const probes = await scrape(`${server.url}/metrics/probes`);
    expect(probes.status).toBe(200);
    expect(probes.body).toContain('prober_probe_total{probe_type="Liveness",result="unknown"');
    expect(probes.body).not.toContain('kubelet_running_pods');
  });
});
