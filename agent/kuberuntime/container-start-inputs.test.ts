import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';
import { match } from '../../fakes/journal/journal.js';
import { waitFor } from '../../ci/util/wait.js';
import { POD_UID_LABEL } from './labels.js';
import { prepareContainerFiles } from './container-start-inputs.js';
import { ContainerConfigError } from './env.js';

/**
 * End to end on the fakes: what a container sees of its termination message file, the managed
 * /etc/hosts and the service links, and the restart count after the runtime lost its containers.
 */

let node: EmbeddedNode | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
});

const IMAGE = 'registry.local/busybox:1.36';

/** Polls until `fn` gives a value (errors count as not yet). */
function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  return waitFor('condition', fn, { timeoutMs, intervalMs: 25 });
}

function shell(name: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: IMAGE, command: ['sh', '-c', script], ...extra };
}

async function start(): Promise<{ n: EmbeddedNode; core: ReturnType<typeof kubeClientsFromString>['core'] }> {
  const log: string[] = [];
  onTestFailed(() => console.log(`agent log:\n${log.slice(-60).join('\n')}`));
  node = await startEmbeddedNode({ configOverrides: { clusterDomain: 'cluster.local' }, log: (m) => log.push(m) });
  return { n: node, core: kubeClientsFromString(node.api.kubeconfig()).core };
}

async function runPod(core: ReturnType<typeof kubeClientsFromString>['core'], pod: V1Pod, until: (p: V1Pod) => boolean): Promise<V1Pod> {
  await core.createNamespacedPod({ namespace: pod.metadata?.namespace ?? 'default', body: pod });
  return eventually(async () => {
    const p = await core.readNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata?.namespace ?? 'default' });
    return until(p) ? p : undefined;
  });
}

/** Runs `argv` in the pod's running container `name` through the CRI, as a user's exec would. */
async function exec(n: EmbeddedNode, pod: V1Pod, name: string, argv: string[]): Promise<string> {
  const { containers } = await n.kubelet.cri.listContainers({
    filter: { labelSelector: { [POD_UID_LABEL]: pod.metadata!.uid!, 'io.kubernetes.container.name': name }, state: { state: 'CONTAINER_RUNNING' } },
  });
  const id = containers[0]?.id;
  if (!id) throw new Error(`no running container ${name}`);
  const res = await n.kubelet.cri.execSync({ containerId: id, cmd: argv, timeout: 5 });
  return Buffer.from(res.stdout).toString('utf8');
}

const running = (p: V1Pod) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

describe('termination messages on the fakes', () => {
  it('reports what the container wrote to /dev/termination-log as its terminated message', async () => {
    const { n, core } = await start();
    const pod = await runPod(
      core,
      { metadata: { name: 'says-bye' }, spec: { restartPolicy: 'Never', containers: [shell('app', 'echo bye > /dev/termination-log; exit 3')] } },
      (p) => p.status?.phase === 'Failed' && p.status.containerStatuses?.[0]?.state?.terminated !== undefined,
    );
    const terminated = pod.status!.containerStatuses![0]!.state!.terminated!;
    expect(terminated.exitCode).toBe(3);
    expect(terminated.reason).toBe('Error');
    expect(terminated.message).toBe('bye\n');
    const dir = join(n.rootDir, 'pods', pod.metadata!.uid!, 'containers', 'app');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{8}$/);
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toBe('bye\n');
  });

  it('keeps the previous instance\'s message in lastState while the container crash-loops', async () => {
    const { core } = await start();
    const pod = await runPod(
      core,
      { metadata: { name: 'looper' }, spec: { restartPolicy: 'Always', containers: [shell('app', 'echo "attempt failed" > /dev/termination-log; exit 1')] } },
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    const status = pod.status!.containerStatuses![0]!;
    expect(status.restartCount).toBeGreaterThanOrEqual(1);
    expect(status.lastState?.terminated?.exitCode).toBe(1);
    expect(status.lastState?.terminated?.message).toBe('attempt failed\n');
  });

  it('mounts the file at a custom terminationMessagePath', async () => {
    const { core } = await start();
    // (An empty path never reaches a kubelet through the API: defaulting turns it into /dev/termination-log.)
    const pod = await runPod(
      core,
      { metadata: { name: 'custom-path' }, spec: { restartPolicy: 'Never', containers: [shell('custom', 'echo custom > /tmp/msg', { terminationMessagePath: '/tmp/msg' })] } },
      (p) => p.status?.phase === 'Succeeded',
    );
    expect(pod.status!.containerStatuses![0]!.state?.terminated?.message).toBe('custom\n');
  });

  it('falls back to the last log lines for FallbackToLogsOnError when the container failed without a message', async () => {
    const { core } = await start();
    const pod = await runPod(
      core,
      {
        metadata: { name: 'fallback' },
        spec: {
          restartPolicy: 'Never',
          containers: [
            shell('failed', 'echo starting; echo disk full >&2; exit 1', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
            shell('succeeded', 'echo all good', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
          ],
        },
      },
      (p) => p.status?.phase === 'Failed' && (p.status.containerStatuses ?? []).every((c) => c.state?.terminated),
    );
    const byName = new Map(pod.status!.containerStatuses!.map((c) => [c.name, c.state?.terminated]));
    expect(byName.get('failed')?.message).toBe('starting\ndisk full\n');
    expect(byName.get('succeeded')?.message ?? '').toBe('');
  });
});

describe('managed /etc/hosts on the fakes', () => {
  it('shows the pod IP with its FQDN and the hostAliases in every container, written to pods/<uid>/etc-hosts', async () => {
    const { n, core } = await start();
    const pod = await runPod(
      core,
      {
        metadata: { name: 'db-0' },
        spec: {
          terminationGracePeriodSeconds: 1,
          hostname: 'db-0',
          subdomain: 'db',
          hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }],
          containers: [shell('a', 'sleep 3600'), shell('b', 'sleep 3600')],
        },
      },
      running,
    );
    const ip = pod.status!.podIP!;
    const seen = await exec(n, pod, 'a', ['cat', '/etc/hosts']);
    expect(seen.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n')).toBe(true);
    expect(seen).toContain(`${ip}\tdb-0.db.default.svc.cluster.local\tdb-0\n`);
    expect(seen.endsWith('\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n')).toBe(true);
    expect(await exec(n, pod, 'b', ['cat', '/etc/hosts'])).toBe(seen);
    const podDir = join(n.rootDir, 'pods', pod.metadata!.uid!);
    expect(readFileSync(join(podDir, 'etc-hosts'), 'utf8')).toBe(seen);
    // Deleting the pod removes the kubelet's files for it.
    await core.deleteNamespacedPod({ name: 'db-0', namespace: 'default' });
    await eventually(() => (existsSync(join(podDir, 'etc-hosts')) || existsSync(join(podDir, 'containers')) ? undefined : true));
  });

  it('gives host-network pods a copy of the node hosts file with their hostAliases, and leaves a container that mounts its own alone', async () => {
    const { n, core } = await start();
    const host = await runPod(
      core,
      { metadata: { name: 'on-host' }, spec: { hostNetwork: true, hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local'] }], containers: [shell('app', 'sleep 3600')] } },
      running,
    );
    const expected = `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\n`;
    expect(await exec(n, host, 'app', ['cat', '/etc/hosts'])).toBe(expected);
    expect(readFileSync(join(n.rootDir, 'pods', host.metadata!.uid!, 'etc-hosts'), 'utf8')).toBe(expected);
    const own = await runPod(
      core,
      {
        metadata: { name: 'own-hosts' },
        spec: {
          volumes: [{ name: 'hosts', emptyDir: {} }],
          initContainers: [shell('prepare', 'echo "1.1.1.1 mine" > /h/hosts', { volumeMounts: [{ name: 'hosts', mountPath: '/h' }] })],
          containers: [shell('app', 'sleep 3600', { volumeMounts: [{ name: 'hosts', mountPath: '/etc/hosts', subPath: 'hosts' }] })],
        },
      },
      running,
    );
    expect(await exec(n, own, 'app', ['cat', '/etc/hosts'])).toBe('1.1.1.1 mine\n');
  });
});

describe('service links on the fakes', () => {
  it('gives containers the services of their namespace and default/kubernetes, with explicit env winning', async () => {
    const { n, core } = await start();
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web-api' }, spec: { ports: [{ name: 'http', port: 8080 }] } } });
    const svc = await core.readNamespacedService({ name: 'web-api', namespace: 'default' });
    const pod = await runPod(
      core,
      { metadata: { name: 'client' }, spec: { containers: [shell('app', 'sleep 3600', { env: [{ name: 'WEB_API_SERVICE_PORT', value: 'mine' }] })] } },
      running,
    );
    const env = new Map(
      (await exec(n, pod, 'app', ['env'])).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(env.get('KUBERNETES_SERVICE_PORT')).toBe('443');
    expect(env.get('KUBERNETES_PORT_443_TCP')).toBe('tcp://10.96.0.1:443');
    expect(env.get('WEB_API_SERVICE_HOST')).toBe(svc.spec!.clusterIP);
    expect(env.get('WEB_API_SERVICE_PORT_HTTP')).toBe('8080');
    expect(env.get('WEB_API_SERVICE_PORT')).toBe('mine');
  });

  it('keeps only default/kubernetes when enableServiceLinks is false', async () => {
    const { n, core } = await start();
    await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    await runPod(core, { metadata: { name: 'unlinked' }, spec: { enableServiceLinks: false, containers: [shell('app', 'sleep 3600')] } }, running);
    const create = n.journal.first(match('cri', 'CreateContainer'))!;
    const keys = ((create.request as { config: { envs: Array<{ key: string }> } }).config.envs ?? []).map((e) => e.key);
    expect(keys).toContain('KUBERNETES_SERVICE_HOST');
    expect(keys.some((k) => k.startsWith('WEB_'))).toBe(false);
  });
});

describe('restart count after the runtime lost its containers', () => {
  it('continues after the highest <N>.log left in the container log directory', async () => {
    const { n, core } = await start();
    const pod = await runPod(core, { metadata: { name: 'survivor' }, spec: { terminationGracePeriodSeconds: 1, containers: [shell('app', 'sleep 3600')] } }, running);
    expect(pod.status!.containerStatuses![0]!.restartCount).toBe(0);
    // The runtime loses the container behind the kubelet's back (as after a reboot that wiped its state); the logs stay.
    const lost = pod.status!.containerStatuses![0]!.containerID!.replace(/^.*:\/\//, '');
    await n.cri.runtime.removeContainer({ containerId: lost } as Parameters<typeof n.cri.runtime.removeContainer>[0]);
    const restarted = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'survivor', namespace: 'default' });
      const c = p.status?.containerStatuses?.[0];
      return c?.state?.running && c.restartCount > 0 ? c : undefined;
    });
    expect(restarted.restartCount).toBe(1);
    const created = n.journal.entries(match('cri', 'CreateContainer'));
    expect(created).toHaveLength(2);
    expect((created.at(-1)!.request as { config: { logPath: string; metadata: { attempt: number } } }).config).toMatchObject({
      logPath: 'app/1.log',
      metadata: { attempt: 1 },
    });
  });
});

describe('prepareContainerFiles', () => {
  const apiPod = (extra: Partial<NonNullable<V1Pod['spec']>> = {}, annotations: Record<string, string> = {}): V1Pod => ({
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', annotations },
    spec: { containers: [shell('app', 'true')], ...extra },
  });

  it('refuses to build the env of an API pod before the services were listed, but not of a static pod', async () => {
    const node = { podLogsDir: '/nonexistent', clusterDomain: 'cluster.local', services: () => null };
    await expect(prepareContainerFiles(apiPod(), shell('app', 'true'), ['10.0.0.5'], node)).rejects.toThrow(
      new ContainerConfigError('services have not yet been read at least once, cannot construct envvars'),
    );
    const staticPod = apiPod({}, { 'kubernetes.io/config.source': 'file' });
    expect(await prepareContainerFiles(staticPod, shell('app', 'true'), ['10.0.0.5'], node)).toEqual({ serviceEnv: new Map() });
  });

  it('makes no host files without a root dir and no service env without a service lister', async () => {
    expect(await prepareContainerFiles(apiPod(), shell('app', 'true'), ['10.0.0.5'], { podLogsDir: '/x', clusterDomain: '' })).toEqual({});
  });
});
