/**
 * What a pod asks for (component-helpers `resource.PodRequests`, kubelet-semantics §6.6): the larger
 * of the regular containers' sum and each init container's peak, where restartable ("sidecar") init
 * containers keep running and so add to everything after them; pod-level requests replace the
 * container aggregate when the PodLevelResources gate is on; then `overhead`.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Quantity } from './quantity.js';
import { addInto, maxInto, parseResourceList, type ResourceList } from './resource-list.js';

export interface FeatureGateOptions {
  /** PodLevelResources (beta, on by default since 1.34): pod.spec.resources drives QoS and requests. */
  readonly featureGates?: { readonly PodLevelResources?: boolean };
}

/** Resource names that pod-level `spec.resources` may carry. */
export const POD_LEVEL_RESOURCES: ReadonlySet<string> = new Set(['cpu', 'memory']);

/** The PodLevelResources gate, on unless switched off. @example podLevelResourcesEnabled({ featureGates: { PodLevelResources: false } }) // false */
export function podLevelResourcesEnabled(options: FeatureGateOptions | undefined): boolean {
  return options?.featureGates?.PodLevelResources ?? true;
}

/**
 * Upstream IsPodLevelResourcesSet: `spec.resources` names cpu or memory in requests or limits.
 * @example isPodLevelResourcesSet({ spec: { containers: [], resources: { limits: { memory: '1Gi' } } } }) // true
 */
export function isPodLevelResourcesSet(pod: V1Pod): boolean {
  const resources = pod.spec?.resources;
  if (resources === undefined || resources === null) return false;
  const names = [...Object.keys(resources.requests ?? {}), ...Object.keys(resources.limits ?? {})];
  return names.some((name) => POD_LEVEL_RESOURCES.has(name));
}

function isSidecar(container: V1Container): boolean {
  return container.restartPolicy === 'Always';
}

function containerRequests(container: V1Container, field: string): Record<string, Quantity> {
  return parseResourceList(container.resources?.requests, `${field}.resources.requests`);
}

/**
 * Aggregated container requests (upstream AggregateContainerRequests), without pod-level
 * resources or overhead.
 * @example aggregateContainerRequests(pod).memory?.toString() // '192Mi'
 */
export function aggregateContainerRequests(pod: V1Pod): Record<string, Quantity> {
  const total: Record<string, Quantity> = {};
  (pod.spec?.containers ?? []).forEach((container, i) => {
    addInto(total, containerRequests(container, `spec.containers[${i}]`));
  });
  const runningSidecars: Record<string, Quantity> = {};
  const initPeak: Record<string, Quantity> = {};
  (pod.spec?.initContainers ?? []).forEach((container, i) => {
    const requests = containerRequests(container, `spec.initContainers[${i}]`);
    let whileThisRuns: ResourceList;
    if (isSidecar(container)) {
      // A sidecar keeps running beside the regular containers and every later init container.
      addInto(total, requests);
      addInto(runningSidecars, requests);
      whileThisRuns = { ...runningSidecars };
    } else {
      const withSidecars: Record<string, Quantity> = {};
      addInto(withSidecars, requests);
      addInto(withSidecars, runningSidecars);
      whileThisRuns = withSidecars;
    }
    maxInto(initPeak, whileThisRuns);
  });
  maxInto(total, initPeak);
  return total;
}

export interface PodRequestsOptions extends FeatureGateOptions {
  /** Leave `spec.overhead` out (eviction ranking adds it itself, only to non-zero requests). */
  readonly excludeOverhead?: boolean;
  /** Ignore container requests entirely (eviction ranking does so when pod-level resources are set). */
  readonly skipContainerLevel?: boolean;
}

/**
 * The pod's effective requests per resource (upstream resourcehelper.PodRequests): the container
 * aggregate, with cpu/memory replaced by pod-level requests when the gate is on and they are set,
 * plus overhead.
 * @example podRequests(pod).cpu?.toString() // '250m'
 */
export function podRequests(pod: V1Pod, options?: PodRequestsOptions): Record<string, Quantity> {
  const requests = options?.skipContainerLevel === true ? {} : aggregateContainerRequests(pod);
  if (podLevelResourcesEnabled(options)) {
    const podLevel = parseResourceList(pod.spec?.resources?.requests, 'spec.resources.requests');
    for (const [name, quantity] of Object.entries(podLevel)) {
      if (POD_LEVEL_RESOURCES.has(name)) requests[name] = quantity;
    }
  }
  if (options?.excludeOverhead !== true) addInto(requests, parseResourceList(pod.spec?.overhead, 'spec.overhead'));
  return requests;
}
