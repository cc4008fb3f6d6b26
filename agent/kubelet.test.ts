import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { assertHappensBefore, step } from '../fakes/journal/happens-before.js';
import { match } from '../fakes/journal/journal.js';
import { kubeClientsFromString } from './api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from './embedded-node.js';
import { eventually } from './test-support/eventually.js';

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

function podSpec(name: string, extra: Partial<NonNullable<V1Pod['spec']>> = {}): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { nodeName: 'harness-node', containers: [{ name: 'app', image: 'registry.local/app:1.0' }], ...extra },
  };
}

describe('Kubelet on the fakes', () => {
  it('registers the node Ready with capacity and allocatable, and renews its lease', async () => {
    node = await startEmbeddedNode({ configOverrides: { kubeReserved: { cpu: '500m', memory: '1Gi' } } });
    const { core, coordination } = kubeClientsFromString(node.api.kubeconfig());
    const n = await eventually(async () => {
      const got = await core.readNode({ name: 'harness-node' });
      return got.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? got : undefined;
    }, 'the node Ready');
    expect(n.status?.capacity).toMatchObject({ cpu: '4', memory: '8Gi', pods: '110' });
    expect(n.status?.allocatable).toMatchObject({ cpu: '3500m', memory: '7068Mi' });
    expect(n.status?.conditions?.map((c) => c.type).sort()).toEqual(['DiskPressure', 'MemoryPressure', 'NetworkUnavailable', 'PIDPressure', 'Ready']);
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/:\/\//);
    const lease = await coordination.readNamespacedLease({ name: 'harness-node', namespace: 'kube-node-lease' });
    expect(lease.spec?.holderIdentity).toBe('harness-node');
  });

  it('runs a pod with an init container in the kubelet order and reports it Running, then deletes it cleanly', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('web', {
        initContainers: [{ name: 'init', image: 'registry.local/init:1.0', command: ['sh', '-c', 'exit 0'] }],
      }),
    });
    const running = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    }, 'web Running and ready');
    expect(running.status?.podIP).toMatch(/^127\./);
    expect(running.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(running.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const j = node.journal;
    const uid = running.metadata!.uid!;
    const sandbox = j.first(match('cri', 'RunPodSandbox'))!;
    const sandboxId = (sandbox.response as { podSandboxId: string }).podSandboxId;
    const created = (name: string) => (e: { source: string; name: string; request?: unknown }) =>
      e.source === 'cri' && e.name === 'CreateContainer' && (e.request as { config?: { metadata?: { name?: string } } }).config?.metadata?.name === name;
    const pulled = (image: string) => (e: { source: string; name: string; request?: unknown }) =>
      e.source === 'cri' && e.name === 'PullImage' && JSON.stringify(e.request).includes(image);
    // As upstream: the sandbox first, then per container pull → create → start.
    assertHappensBefore(j, [
      step('sandbox', match('cri', 'RunPodSandbox')),
      step('pull init image', pulled('registry.local/init')),
      step('init created', created('init')),
      step('pull app image', pulled('registry.local/app')),
      step('app created', created('app')),
    ]);
    expect(uid).toBeTruthy();

    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await eventually(async () => {
      try {
        await core.readNamespacedPod({ name: 'web', namespace: 'default' });
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    }, 'web gone');
    assertHappensBefore(j, [
      step('stop app', match('cri', 'StopContainer')),
      step('stop sandbox', match('cri', 'StopPodSandbox', { podSandboxId: sandboxId })),
      step('remove sandbox', match('cri', 'RemovePodSandbox', { podSandboxId: sandboxId })),
    ]);
    const left = await node.kubelet.cri.listPodSandbox({});
    expect(left.items).toEqual([]);
  });

  it('shares an emptyDir between an init container that writes and an app container that reads, and tears it down on deletion', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    const image = 'registry.local/busybox:1.36';
    const created = await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('shared', {
        terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'data', emptyDir: {} }],
        initContainers: [{ name: 'writer', image, command: ['sh', '-c', 'echo hello > /data/msg'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        containers: [{ name: 'reader', image, command: ['sh', '-c', 'cat /data/msg > /data/seen; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      }),
    });
    await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'shared', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'shared Running');
    const uid = created.metadata!.uid!;
    const { readFileSync, existsSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(node.rootDir, 'pods', uid, 'volumes', 'kubernetes.io~empty-dir', 'data');
    const seen = await eventually(() => (existsSync(join(dir, 'seen')) ? readFileSync(join(dir, 'seen'), 'utf8') : undefined), 'the seen file');
    expect(seen.trim()).toBe('hello');
    await core.deleteNamespacedPod({ name: 'shared', namespace: 'default' });
    await eventually(() => (existsSync(dir) ? undefined : true), 'the pod dir removed');
  });

  it('marks a container ready after its readiness probe succeeds and restarts one that fails liveness', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('probed', {
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'web', image: 'registry.local/web:1', ports: [{ containerPort: 8080 }], readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 } },
          {
            name: 'sick',
            image: 'registry.local/busybox:1.36',
            command: ['sh', '-c', 'sleep 3600'],
            livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      }),
    });
    const pod = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'probed', namespace: 'default' });
      const web = p.status?.containerStatuses?.find((c) => c.name === 'web');
      const sick = p.status?.containerStatuses?.find((c) => c.name === 'sick');
      return web?.ready && (sick?.restartCount ?? 0) >= 1 ? p : undefined;
    }, 'web ready and sick restarted', 15_000);
    expect(pod.status?.containerStatuses?.find((c) => c.name === 'web')?.started).toBe(true);
    expect(node.kubelet.events.events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed'))).toBe(true);
    expect(node.kubelet.events.events.some((e) => e.reason === 'Killing' && e.message === 'Container sick failed liveness probe, will be restarted')).toBe(true);
  });

  it('evicts a pod when memory.available crosses the hard threshold and reports MemoryPressure on the node', async () => {
    node = await startEmbeddedNode({
      machine: { memory: 1024n * 1024n * 1024n },
      configOverrides: { evictionHard: { 'memory.available': '100Mi' } },
      evictionMonitoringIntervalMs: 500,
    });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('hog', {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'registry.local/app:1', env: [{ name: 'FAKE_MEMORY_SCHEDULE', value: '10Mi for 1s then 980Mi' }] }],
      }),
    });
    const evicted = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'hog', namespace: 'default' });
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'hog evicted', 15_000);
    expect(evicted.status?.reason).toBe('Evicted');
    expect(evicted.status?.message).toMatch(/^The node was low on resource: memory\./);
    expect(evicted.status?.conditions?.some((c) => c.type === 'DisruptionTarget')).toBe(true);
    const n = await eventually(async () => {
      const got = await core.readNode({ name: 'harness-node' });
      return got.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status === 'True' ? got : undefined;
    }, 'MemoryPressure True', 10_000);
    expect(n.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.reason).toBe('KubeletHasInsufficientMemory');
  });

  it('rotates a container log over containerLogMaxSize through ReopenContainerLog', async () => {
    node = await startEmbeddedNode({ configOverrides: { containerLogMaxSize: '1Ki', containerLogMaxFiles: 3, containerLogMonitorInterval: 200 } });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('chatty', { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: 'registry.local/busybox:1.36', command: ['sh', '-c', 'echo hello; sleep 3600'] }] }),
    });
    const p = await eventually(async () => {
      const got = await core.readNamespacedPod({ name: 'chatty', namespace: 'default' });
      return got.status?.phase === 'Running' ? got : undefined;
    }, 'chatty Running');
    const { appendFileSync, readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = join(node.kubelet.config.podLogsDir, `default_chatty_${p.metadata!.uid!}`, 'app');
    appendFileSync(join(dir, '0.log'), `${new Date().toISOString()} stdout F ${'x'.repeat(2048)}\n`);
    const rotated = await eventually(() => readdirSync(dir).find((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)), 'a rotated log file');
    expect(rotated).toBeTruthy();
    // The rename comes first, then the runtime is asked to reopen the log.
    await eventually(() => node!.journal.first((e) => e.source === 'cri' && e.name === 'ReopenContainerLog' && !e.error), 'ReopenContainerLog');
    expect(readdirSync(dir)).toContain('0.log');
    // Deleting the pod removes the current and rotated log files before RemoveContainer.
    await core.deleteNamespacedPod({ name: 'chatty', namespace: 'default' });
    const removed = await eventually(() => node!.journal.first((e) => e.source === 'cri' && e.name === 'RemoveContainer' && !e.error), 'RemoveContainer', 15_000);
    expect(removed).toBeTruthy();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('observes allocatableMemory.available and pid.available on a declared machine, from its reservations', async () => {
    node = await startEmbeddedNode({
      machine: { memory: 8n * 1024n * 1024n * 1024n },
      configOverrides: { kubeReserved: { memory: '1Gi' }, systemReserved: { memory: '512Mi' } },
    });
    const machine = node.kubelet.evictionMachine();
    expect(machine.podsMemoryLimitBytes).toBe(6656n * 1024n * 1024n);
    expect(machine.maxPid).toBeGreaterThan(0);
    const { observations } = await node.kubelet.eviction.synchronize();
    expect(String(observations['allocatableMemory.available']?.capacity)).toBe('6656Mi');
    expect(String(observations['allocatableMemory.available']?.available)).toBe('6656Mi');
    expect(String(observations['pid.available']?.capacity)).toBe(String(machine.maxPid));
    // Nothing runs: the node's usage is only what the runtime reports, nodefs is not measured twice.
    expect(String(observations['nodefs.available']?.available)).toBe(String(observations['nodefs.available']?.capacity));
  });

  it('reports a missing RuntimeClass as FailedCreatePodSandBox and keeps running other pods', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({ namespace: 'default', body: podSpec('gvisor', { runtimeClassName: 'gvisor' }) });
    await core.createNamespacedPod({ namespace: 'default', body: podSpec('plain') });
    await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'plain', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'plain Running');
    const failed = await eventually(
      () => node!.kubelet.events.events.find((e) => e.reason === 'FailedCreatePodSandBox' && e.ref.name === 'gvisor'),
      'the FailedCreatePodSandBox event',
    );
    expect(failed.message).toBe('Failed to create pod sandbox: RuntimeClass "gvisor" not found');
    const stuck = await core.readNamespacedPod({ name: 'gvisor', namespace: 'default' });
    expect(stuck.status?.phase).toBe('Pending');
    expect(stuck.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('ContainerCreating');
  });

  it('reports an image that cannot be pulled as ErrImagePull with Failed events', async () => {
    node = await startEmbeddedNode();
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('nopull', { containers: [{ name: 'app', image: 'registry.local/does-not-exist:1' }] }),
    });
    // The first failed pull shows ErrImagePull; a sync inside the 10 s pull backoff shows ImagePullBackOff. Under
    // load the API may only ever be seen with the second, so either counts, and the events prove the failed pull.
    const pod = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'nopull', namespace: 'default' });
      const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return reason === 'ErrImagePull' || reason === 'ImagePullBackOff' ? p : undefined;
    }, 'nopull waiting on its image', 20_000);
    expect(pod.status?.phase).toBe('Pending');
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
    expect(waiting?.message).toMatch(
      waiting?.reason === 'ErrImagePull'
        ? /^Failed to pull image "registry.local\/does-not-exist:1"/
        : /^Back-off pulling image "registry.local\/does-not-exist:1"/,
    );
    const events = node.kubelet.events.events.filter((e) => e.ref.name === 'nopull');
    expect(events.map((e) => `${e.type}/${e.reason}`)).toEqual(expect.arrayContaining(['Normal/Pulling', 'Warning/Failed']));
    expect(events.find((e) => e.reason === 'Failed')?.message).toMatch(/^Failed to pull image "registry.local\/does-not-exist:1"/);
  });

  it('restarts a pod whose runtime lost all state: a new sandbox and container, restartCount 1, Running again', async () => {
    node = await startEmbeddedNode();
    const n = node;
    const { core } = kubeClientsFromString(n.api.kubeconfig());
    await core.createNamespacedPod({ namespace: 'default', body: podSpec('survivor') });
    const read = () => core.readNamespacedPod({ name: 'survivor', namespace: 'default' });
    const first = await eventually(async () => {
      const p = await read();
      return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
    }, 'the first container running');
    const uid = first.metadata!.uid!;
    const firstId = first.status!.containerStatuses![0]!.containerID;
    // The runtime loses everything once the PLEG has seen the pod running (as after a host reboot).
    await eventually(() => (n.kubelet.pleg.sawPod(uid) ? true : undefined), 'the PLEG to see the pod');
    await n.cri.restart({ keepState: false });
    const after = await eventually(async () => {
      const p = await read();
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.running && cs.containerID !== firstId ? p : undefined;
    }, 'a new container running', 15_000);
    expect(after.status?.phase).toBe('Running');
    expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(1);
    // With no sandbox left to count from, the new one is attempt 0 again (upstream PodSandboxChanged).
    const sandboxes = n.journal.entries(match('cri', 'RunPodSandbox'));
    expect(sandboxes.map((e) => (e.request as { config?: { metadata?: { attempt?: number } } }).config?.metadata?.attempt ?? 0)).toEqual([0, 0]);
  });

  it('adopts the runtime cgroup driver over a conflicting configuration and reports kubelet_node_config_error', async () => {
    node = await startEmbeddedNode({ configOverrides: { cgroupDriver: 'systemd' } });
    expect(node.kubelet.cgroupDriver).toBe('cgroupfs');
    const text = await node.kubelet.metrics.registry.getSingleMetricAsString('kubelet_node_config_error');
    expect(text).toMatch(/^kubelet_node_config_error 1$/m);
  });

  it('rejects a pod that does not fit with OutOfcpu', async () => {
    node = await startEmbeddedNode({ machine: { cpu: 1 } });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    await core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('big', { containers: [{ name: 'app', image: 'registry.local/app:1.0', resources: { requests: { cpu: '2' } } }] }),
    });
    const failed = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'big', namespace: 'default' });
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'big Failed');
    expect(failed.status?.reason).toBe('OutOfcpu');
    expect(failed.status?.message).toMatch(/^Pod was rejected: Node didn't have enough resource: cpu/);
  });
});
