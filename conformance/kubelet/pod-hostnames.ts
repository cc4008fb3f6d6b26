import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { POD_UID_LABEL } from '../../agent/kuberuntime/labels.js';
import { defineSuite, type SpecContext } from '../framework/spec.js';
import { agentCalls, createPod, shellContainer, startAgent, waitForPod } from './support.js';

/**
 * A pod's names as its containers see them: the hosts file of a host-network pod (a copy of the node's,
 * which the agent reads on the same machine), and the refusal of a hostname or subdomain that is not a
 * DNS-1123 label before anything reaches the runtime.
 */

const runningAll = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).length > 0 && (p.status.containerStatuses ?? []).every((c) => c.state?.running);

async function catIn(ctx: SpecContext, pod: V1Pod, container: string, path: string): Promise<string> {
  const { containers } = await ctx.cri.listContainers({
    filter: { labelSelector: { [POD_UID_LABEL]: pod.metadata!.uid!, 'io.kubernetes.container.name': container }, state: { state: 'CONTAINER_RUNNING' } },
  });
  const id = containers[0]?.id;
  assert.ok(id, `container ${container} of ${pod.metadata?.name} is running`);
  const res = await ctx.cri.execSync({ containerId: id, cmd: ['cat', path], timeout: 10 });
  assert.equal(res.exitCode, 0, `cat ${path} exits 0 (stderr: ${Buffer.from(res.stderr).toString()})`);
  return Buffer.from(res.stdout).toString('utf8');
}

export const kubeletPodHostnamesSuite = defineSuite('kubelet/pod-hostnames', [
  {
    title: "a host-network pod's containers see the node's hosts file under the kubelet's host-network header, followed by the pod's hostAliases",
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-hostnet');
      await createPod(agent, {
        metadata: { name },
        spec: {
          hostNetwork: true,
          terminationGracePeriodSeconds: 1,
          hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }],
          containers: [shellContainer('a', image, 'sleep 3600'), shellContainer('b', image, 'sleep 3600')],
        },
      });
      const pod = await waitForPod(ctx, agent, name, 'Running', runningAll);
      const expected = `# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n`;
      assert.equal(await catIn(ctx, pod, 'a', '/etc/hosts'), expected, "the first container sees the node's file with the aliases");
      assert.equal(await catIn(ctx, pod, 'b', '/etc/hosts'), expected, 'the second container sees the same file');
    },
  },
  {
    title: 'a pod whose hostname or subdomain is not a DNS-1123 label is Failed naming the field, and never gets a sandbox',
    timeoutMs: 60_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const cases = [
        { field: 'spec.hostname', spec: { hostname: 'Web_0' } },
        { field: 'spec.subdomain', spec: { subdomain: 'a.b' } },
      ];
      for (const c of cases) {
        const name = ctx.uniqueName('kh-badname');
        await createPod(agent, { metadata: { name }, spec: { ...c.spec, containers: [shellContainer('app', image, 'sleep 3600')] } });
        const failed = await waitForPod(ctx, agent, name, 'Failed', (p) => p.status?.phase === 'Failed');
        const message = failed.status?.message ?? '';
        assert.ok(message.startsWith(`Pod was rejected: ${c.field}: Invalid value: `), `the status message names ${c.field}: ${message}`);
      }
      assert.equal(agentCalls(agent, 'RunPodSandbox').length, 0, 'no sandbox was created for the rejected pods');
    },
  },
]);
