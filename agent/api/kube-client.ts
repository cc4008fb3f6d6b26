import {
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

export function kubeClientsFromConfig(config: KubeConfig): KubeClients {
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
