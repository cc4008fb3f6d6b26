import assert from 'node:assert/strict';
import { runChannelExec, runPortForward } from '../../fakes/cri/streaming-client.js';
import { defineSuite } from '../framework/spec.js';
import { createPod, shellContainer, startAgent, waitForPod } from './support.js';

/**
 * `kubectl attach` and `kubectl port-forward` through the API on every runtime: pods/attach and
 * pods/portforward proxied by the mock API server to the agent's kubelet server, which calls CRI
 * Attach / PortForward and proxies on to the runtime's streaming server (containerd's own on the
 * containerd target). WebSocket clients: the channel protocol for attach, the port-forward protocol
 * (a data and an error channel, each starting with the port) for port-forward.
 */
export const kubeletAttachPortForwardSuite = defineSuite('kubelet/attach-port-forward', [
  {
    title: "pods/attach streams what the container writes from then on, and pods/portforward reaches busybox httpd in the pod: the HTTP answer on the data channel, nothing on the error channel",
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx, { port: 0 }, { serveKubeletServer: true });
      const name = ctx.uniqueName('kh-attach');
      const script = 'echo before-attach; echo hello > /tmp/index.html; httpd -p 8080 -h /tmp; while true; do echo tick; sleep 0.2; done';
      await createPod(agent, {
        metadata: { name },
        spec: { terminationGracePeriodSeconds: 1, containers: [shellContainer('app', ctx.target.images.busybox, script)] },
      });
      await waitForPod(ctx, agent, name, 'app runs', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined, 60_000);
      const pods = `${agent.api.url}/api/v1/namespaces/${agent.namespace}/pods/${name}`;

      const attached = await runChannelExec(`${pods}/attach?container=app&stdout=true&stderr=true`, { timeoutMs: 20_000, closeWhen: (out) => out.split('tick\n').length > 3 });
      assert.match(attached.stdout, /^(tick\n){3,}$/, 'three ticks and only ticks: output after attaching');
      assert.ok(['v5.channel.k8s.io', 'v4.channel.k8s.io'].includes(attached.protocol), `a v4+ protocol, got ${attached.protocol}`);

      let forwarded: Awaited<ReturnType<typeof runPortForward>> | undefined;
      // httpd starts with the container's command; give it a moment on a slow runtime.
      for (let i = 0; i < 50; i++) {
        forwarded = await runPortForward(`${pods}/portforward?ports=8080`, 'GET /index.html HTTP/1.0\r\n\r\n', { timeoutMs: 20_000 });
        if (forwarded.data.length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual([forwarded?.protocol, forwarded?.dataPort, forwarded?.errorPort, forwarded?.error], ['v4.channel.k8s.io', 8080, 8080, ''], 'both channels announce the port; no error');
      assert.match(forwarded?.data.toString() ?? '', /^HTTP\/1\.[01] 200 OK\r\n[\s\S]*\r\n\r\nhello\n$/, "the pod's httpd answered through the tunnel");
    },
  },
]);
