import assert from 'node:assert/strict';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_UID_LABEL } from '../../agent/kuberuntime/labels.js';
import { eventually } from '../cri/support.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { createPod, shellContainer, startAgent, waitForPod, type AgentUnderTest } from './support.js';

/**
 * What the kubelet gives a container besides its image, seen from inside it or in its status, the same
 * on every runtime: the termination message file (and the log fallback), the managed /etc/hosts, the
 * service-link environment, and a restart count that survives the runtime losing the container.
 */

const runningAll = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

/** Runs a command in the pod's running container through the target's CRI (what `kubectl exec` reaches). */
async function execIn(ctx: SpecContext, pod: V1Pod, container: string, cmd: string[]): Promise<string> {
  const { containers } = await ctx.cri.listContainers({
    filter: { labelSelector: { [POD_UID_LABEL]: pod.metadata!.uid!, 'io.kubernetes.container.name': container }, state: { state: 'CONTAINER_RUNNING' } },
  });
  const id = containers[0]?.id;
  assert.ok(id, `container ${container} of ${pod.metadata?.name} is running`);
  const res = await ctx.cri.execSync({ containerId: id, cmd, timeout: 10 });
  assert.equal(res.exitCode, 0, `${cmd.join(' ')} exits 0 (stderr: ${Buffer.from(res.stderr).toString()})`);
  return Buffer.from(res.stdout).toString('utf8');
}

function terminatedOf(pod: V1Pod, name: string) {
  return pod.status?.containerStatuses?.find((c) => c.name === name)?.state?.terminated;
}

export const kubeletContainerFilesSuite = defineSuite('kubelet/container-files', [
  {
    title: 'what a container writes to /dev/termination-log becomes its terminated message; FallbackToLogsOnError takes the log tail when it wrote none and failed',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-message');
      await createPod(agent, {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [
            shellContainer('file', image, 'echo bye > /dev/termination-log; exit 3'),
            shellContainer('logs', image, 'echo starting; echo disk full; exit 1', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
            shellContainer('quiet', image, 'echo all good', { terminationMessagePolicy: 'FallbackToLogsOnError' }),
          ],
        },
      });
      const pod = await waitForPod(ctx, agent, name, 'every container terminated', (p) =>
        (p.status?.containerStatuses ?? []).length === 3 && (p.status?.containerStatuses ?? []).every((c) => c.state?.terminated),
      );
      const file = terminatedOf(pod, 'file');
      assert.equal(file?.exitCode, 3, 'the file container exited 3');
      assert.equal(file?.message, 'bye\n', 'its message is what it wrote to /dev/termination-log');
      assert.equal(terminatedOf(pod, 'logs')?.message, 'starting\ndisk full\n', 'a failed container without a message gets its last log lines');
      assert.equal(terminatedOf(pod, 'quiet')?.message ?? '', '', 'a container that exited 0 gets no log fallback');
    },
  },
  {
    title: 'every container of a pod on the pod network sees the kubelet-managed /etc/hosts naming the pod IP and the hostAliases',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-hosts');
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }],
          containers: [shellContainer('a', image, 'sleep 3600'), shellContainer('b', image, 'sleep 3600')],
        },
      });
      const pod = await waitForPod(ctx, agent, name, 'Running', runningAll);
      const ip = pod.status?.podIP ?? '';
      assert.ok(ip, 'the pod has an IP');
      const hosts = await execIn(ctx, pod, 'a', ['cat', '/etc/hosts']);
      assert.ok(hosts.startsWith('# Kubernetes-managed hosts file.\n'), `managed file, got:\n${hosts}`);
      assert.ok(hosts.includes('127.0.0.1\tlocalhost\n'), 'localhost entry');
      assert.ok(hosts.includes(`${ip}\t${name}\n`), `the pod IP ${ip} names the pod, got:\n${hosts}`);
      assert.ok(hosts.endsWith('# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n'), `hostAliases at the end, got:\n${hosts}`);
      assert.equal(await execIn(ctx, pod, 'b', ['cat', '/etc/hosts']), hosts, 'the second container sees the same file');
    },
  },
  {
    title: 'containers get KUBERNETES_SERVICE_* and the links of the services in their namespace, an explicit env var winning',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const svcName = ctx.uniqueName('kh-svc');
      const svc = await agent.core.createNamespacedService({
        namespace: agent.namespace,
        body: { metadata: { name: svcName }, spec: { ports: [{ name: 'http', port: 8080 }] } },
      });
      ctx.onCleanup(() => agent.core.deleteNamespacedService({ name: svcName, namespace: agent.namespace }).then(() => undefined));
      const prefix = svcName.replace(/-/g, '_').toUpperCase();
      const name = ctx.uniqueName('kh-links');
      // The service informer has to see the new service before the container starts.
      await waitForServiceListed(ctx, agent, svcName);
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [shellContainer('app', image, 'sleep 3600', { env: [{ name: `${prefix}_SERVICE_PORT`, value: 'mine' }] })],
        },
      });
      const pod = await waitForPod(ctx, agent, name, 'Running', runningAll);
      const env = new Map(
        (await execIn(ctx, pod, 'app', ['env']))
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
      );
      assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1', 'the API server service host');
      assert.equal(env.get('KUBERNETES_SERVICE_PORT'), '443', 'the API server service port');
      assert.equal(env.get(`${prefix}_SERVICE_HOST`), svc.spec?.clusterIP, 'the namespace service host');
      assert.equal(env.get(`${prefix}_SERVICE_PORT_HTTP`), '8080', 'the named port');
      assert.equal(env.get(`${prefix}_PORT`), `tcp://${svc.spec?.clusterIP}:8080`, 'the Docker link');
      assert.equal(env.get(`${prefix}_SERVICE_PORT`), 'mine', 'the container env wins');
    },
  },
  {
    title: 'a container the runtime lost is started again with the restart count after its last log file, not 0',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-lost');
      await createPod(agent, { metadata: { name }, spec: { terminationGracePeriodSeconds: 1, containers: [shellContainer('app', image, 'sleep 3600')] } });
      const pod = await waitForPod(ctx, agent, name, 'Running', runningAll);
      const first = pod.status!.containerStatuses![0]!;
      assert.equal(first.restartCount, 0, 'first start');
      const id = first.containerID!.replace(/^.*:\/\//, '');
      // Removed behind the kubelet's back: the runtime no longer knows it; the kubelet's log file 0.log stays.
      await ctx.cri.removeContainer({ containerId: id });
      const again = await waitForPod(ctx, agent, name, 'running again with restartCount 1', (p) => {
        const c = p.status?.containerStatuses?.[0];
        return c?.state?.running !== undefined && c.containerID !== first.containerID && c.restartCount === 1;
      });
      assert.equal(again.status!.containerStatuses![0]!.restartCount, 1);
    },
  },
]);

async function waitForServiceListed(ctx: SpecContext, agent: AgentUnderTest, name: string): Promise<void> {
  await eventually(ctx, `the kubelet's service informer to list ${name}`, async () => (agent.kubelet.serviceLister?.list()?.some((s) => s.metadata?.name === name) ? true : undefined), {
    timeoutMs: 10_000,
    intervalMs: 25,
  });
}
