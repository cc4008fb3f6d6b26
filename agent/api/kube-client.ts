import {
  type Cluster,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  NodeV1Api,
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';

/** The API clients the agent uses, built from one kubeconfig. */
export interface KubeClients {
  readonly config: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly node: NodeV1Api;
}

/**
 * client-node 2 builds a new undici Agent, so a new connection, for every request to a cluster that has
 * TLS options (a CA, client certificates, or insecure-skip-tls-verify): a kubelet writing statuses and
 * events would open a connection per write. One dispatcher per cluster and user is kept instead (the
 * key client-node itself uses for its https agents), so requests share keep-alive connections.
 */
function shareDispatchers(config: KubeConfig): void {
  type CreateDispatcher = (cluster: Cluster | null, agentOptions: unknown) => unknown;
  const target = config as unknown as { createDispatcher?: CreateDispatcher };
  const create = target.createDispatcher;
  if (typeof create !== 'function') return;
  const cache = new Map<string, unknown>();
  target.createDispatcher = function (this: KubeConfig, cluster, agentOptions) {
    const key = JSON.stringify([cluster?.name ?? '', cluster?.server ?? '', this.getCurrentUser()?.name ?? '']);
    if (!cache.has(key)) cache.set(key, create.call(this, cluster, agentOptions));
    return cache.get(key);
  };
}

export function kubeClientsFromConfig(config: KubeConfig): KubeClients {
  shareDispatchers(config);
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
    node: config.makeApiClient(NodeV1Api),
  };
}

export function kubeClientsFromFile(path: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kubeClientsFromConfig(kc);
}

export function kubeClientsFromString(text: string): KubeClients {
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kubeClientsFromConfig(kc);
}

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const strategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** HTTP status of a client-node ApiException (or undefined for transport errors). */
export function httpCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export type { V1Pod };
