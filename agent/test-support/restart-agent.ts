/** For tests that restart the agent: a second agent started on an embedded node's runtime and API server. */
import { afterEach } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode, type EmbeddedNodeOptions } from '../embedded-node.js';
import { Kubelet } from '../kubelet.js';

/** Stops the node's agent and starts a new one on the same runtime, API server, root dir and config. */
export async function restartAgent(node: EmbeddedNode, log?: (msg: string) => void): Promise<Kubelet> {
  const first = node.kubelet;
  await first.stop();
  const next = new Kubelet({
    config: first.config,
    nodeName: first.nodeName,
    rootDir: node.rootDir,
    kubeClients: kubeClientsFromString(node.api.kubeconfig()),
    machine: first.machine,
    ...(log ? { log } : {}),
  });
  await next.start();
  await next.podSourceSynced();
  return next;
}

export interface RestartableNodes {
  /** Starts an embedded node, closed after the test. */
  start(options?: EmbeddedNodeOptions): Promise<EmbeddedNode>;
  /** restartAgent(node); the new agent is stopped after the test, before the node closes. */
  restart(node: EmbeddedNode, log?: (msg: string) => void): Promise<Kubelet>;
}

/** For a describe block whose tests restart the agent: everything started is torn down after each test. */
export function useRestartableNodes(): RestartableNodes {
  let node: EmbeddedNode | undefined;
  let second: Kubelet | undefined;
  afterEach(async () => {
    await second?.stop();
    second = undefined;
    await node?.close();
    node = undefined;
  });
  return {
    start: async (options) => (node = await startEmbeddedNode(options)),
    restart: async (n, log) => (second = await restartAgent(n, log)),
  };
}
