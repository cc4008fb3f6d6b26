import type { V1Pod } from '@kubernetes/client-node';
import type { EmbeddedNode } from '../embedded-node.js';
import { eventually } from './eventually.js';

/**
 * Waits until the pod `name` (namespace default) in the node's API server store satisfies `ok`, and
 * returns it; on timeout the message names `what` and the pod's last status.
 */
export function podWhere(node: EmbeddedNode, name: string, what: string, ok: (pod: V1Pod) => boolean, timeoutMs = 30_000): Promise<V1Pod> {
  return eventually(
    () => {
      const pod = node.api.registry.store.get('pods', 'default', name)?.object as V1Pod | undefined;
      if (pod && ok(pod)) return pod;
      throw new Error(`status: ${JSON.stringify(pod?.status)}`);
    },
    `pod ${name}: waiting until ${what}`,
    timeoutMs,
  );
}

/** Every container of the pod has a status, and each is running. */
export function allContainersRunning(pod: V1Pod): boolean {
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((c) => c.state?.running !== undefined);
}
