import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { hashContainer } from './container-hash.js';
import type {
  RuntimeContainerState,
  RuntimeContainerStatus,
  RuntimePodStatus,
  RuntimeSandboxStatus,
} from './runtime-status.js';

/** Builders for the pure kuberuntime/status tests: small pods and runtime snapshots. */

export function container(name: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: `registry.local/${name}:1`, ...extra };
}

export function pod(
  spec: { containers?: V1Container[]; initContainers?: V1Container[]; restartPolicy?: string } & Record<string, unknown>,
  meta: Partial<NonNullable<V1Pod['metadata']>> = {},
): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta },
    spec: { containers: [container('app')], ...spec } as V1Pod['spec'],
  };
}

export function sandbox(extra: Partial<RuntimeSandboxStatus> = {}): RuntimeSandboxStatus {
  return { id: 'sb1', state: 'ready', attempt: 0, createdAt: 1, ip: '10.0.0.5', hostNetwork: false, ...extra };
}

let seq = 0;
export function ctr(
  spec: V1Container,
  state: RuntimeContainerState,
  extra: Partial<RuntimeContainerStatus> = {},
): RuntimeContainerStatus {
  seq++;
  return {
    id: `c-${spec.name}-${seq}`,
    name: spec.name,
    state,
    createdAt: 1000 + seq,
    startedAt: state === 'created' ? 0 : 1000 + seq,
    finishedAt: state === 'exited' ? 2000 + seq : 0,
    exitCode: 0,
    reason: state === 'exited' ? 'Completed' : '',
    message: '',
    image: spec.image ?? '',
    imageRef: `sha256:${spec.name}`,
    hash: hashContainer(spec),
    restartCount: 0,
    ...extra,
  };
}

export function runtime(
  sandboxes: RuntimeSandboxStatus[],
  containers: RuntimeContainerStatus[] = [],
): RuntimePodStatus {
  return {
    uid: 'uid-1',
    name: 'web',
    namespace: 'default',
    ips: sandboxes[0]?.ip ? [sandboxes[0].ip] : [],
    sandboxStatuses: sandboxes,
    containerStatuses: [...containers].sort((a, b) => b.createdAt - a.createdAt),
  };
}
