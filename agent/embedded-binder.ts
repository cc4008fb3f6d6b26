import type { MockApiServer } from '../fakes/apiserver/server.js';

/**
 * The stand-in scheduler of `up`: the mock API server has no scheduler (and no pods/binding
 * subresource), so a pod stored without spec.nodeName is bound to the embedded node in the server's
 * store, as the Binding subresource would do it: spec.nodeName set and PodScheduled=True added.
 * Pods naming another scheduler are left alone.
 */
export function bindPodsToNode(api: MockApiServer, nodeName: string, now: () => number): () => void {
  const bind = (namespace: string, name: string): void => {
    const stored = api.store.get('pods', namespace, name);
    if (!stored) return;
    const pod = stored.object as unknown as {
      metadata: Record<string, unknown>;
      spec?: { nodeName?: string; schedulerName?: string };
      status?: { conditions?: Array<Record<string, unknown>> };
    };
    if (pod.spec?.nodeName || (pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler' || pod.metadata['deletionTimestamp']) return;
    api.store.replace('pods', namespace, name, (rv) => ({
      ...(stored.object as object),
      metadata: { ...pod.metadata, resourceVersion: String(rv) },
      spec: { ...pod.spec, nodeName },
      status: {
        ...pod.status,
        conditions: [
          ...(pod.status?.conditions ?? []).filter((c) => c['type'] !== 'PodScheduled'),
          { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: `${new Date(now()).toISOString().slice(0, 19)}Z` },
        ],
      },
    }) as never);
  };
  for (const p of api.store.list('pods')) bind(p.namespace, p.name);
  return api.store.subscribe((change) => {
    if (change.resource !== 'pods' || change.type !== 'ADDED') return;
    // After the create has been answered: bind as a scheduler would, a moment later.
    queueMicrotask(() => bind(change.current.namespace, change.current.name));
  });
}
