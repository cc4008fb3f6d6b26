import type { MockApiServer } from '../fakes/apiserver/server.js';

/**
 * The stand-in scheduler of `up`: the mock API server has no scheduler, so a pod stored without
 * spec.nodeName is bound to the embedded node through the server's pods/binding code path (the one a
 * scheduler's POST reaches), which sets spec.nodeName and PodScheduled=True. Pods naming another
 * scheduler, pods being deleted and pods already bound are left alone.
 */
export function bindPodsToNode(api: MockApiServer, nodeName: string): () => void {
  const bind = (namespace: string, name: string): void => {
    const pod = api.store.get('pods', namespace, name)?.object as
      | { metadata?: { deletionTimestamp?: string }; spec?: { nodeName?: string; schedulerName?: string } }
      | undefined;
    if (!pod || pod.spec?.nodeName || (pod.spec?.schedulerName ?? 'default-scheduler') !== 'default-scheduler' || pod.metadata?.deletionTimestamp) return;
    try {
      api.registry.bind(namespace, name, { kind: 'Binding', apiVersion: 'v1', metadata: { name, namespace }, target: { kind: 'Node', name: nodeName } });
    } catch {
      // Bound or deleted meanwhile (409/404): as for a scheduler, nothing is left to do.
    }
  };
  for (const p of api.store.list('pods')) bind(p.namespace, p.name);
  return api.store.subscribe((change) => {
    if (change.resource !== 'pods' || change.type !== 'ADDED') return;
    // After the create has been answered: bind as a scheduler would, a moment later.
    queueMicrotask(() => bind(change.current.namespace, change.current.name));
  });
}
