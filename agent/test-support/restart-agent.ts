/** For tests that restart the agent: a second agent started on an embedded node's runtime and API server. */
import { kubeClientsFromString } from '../api/kube-client.js';
import type { EmbeddedNode } from '../embedded-node.js';
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
