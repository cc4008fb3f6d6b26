/**
 * The status message and event annotations of a pod evicted for node pressure (kubelet-semantics
 * §5.5 step 7; upstream evictionMessage):
 *   "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app
 *    was using 300Mi, request is 100Mi, has larger consumption of memory. "
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { Quantity, toQuantity } from '../resources/quantity.js';
import { isPodLevelResourcesSet, podLevelResourcesEnabled, type FeatureGateOptions } from '../resources/pod-requests.js';
import type { PodUsage } from './ranking.js';
import type { SignalResource } from './signals.js';

/** Per-container usage, in the order the stats summary lists the containers. */
export interface ContainerUsage {
  readonly name: string;
  readonly memoryWorkingSetBytes?: bigint;
  readonly rootfsBytes?: bigint;
  readonly logsBytes?: bigint;
}

export interface EvictionMessageInput {
  readonly resource: SignalResource;
  readonly pod: V1Pod;
  /** null when the stats summary had no entry for the pod. */
  readonly stats: (PodUsage & { readonly containers?: readonly ContainerUsage[] }) | null;
  /** The first active threshold for this resource that had an observation, if any. */
  readonly thresholdQuantity?: Quantity;
  readonly available?: Quantity;
}

export interface EvictionMessage {
  readonly message: string;
  /** offending_containers, offending_containers_usage, starved_resource (and offending_pod[_usage]). */
  readonly annotations: Readonly<Record<string, string>>;
}

function containerUsage(resource: SignalResource, usage: ContainerUsage): Quantity | undefined {
  if (resource === 'memory') {
    return usage.memoryWorkingSetBytes === undefined ? undefined : Quantity.fromBigInt(usage.memoryWorkingSetBytes, 'BinarySI');
  }
  if (resource === 'ephemeral-storage' && usage.rootfsBytes !== undefined && usage.logsBytes !== undefined) {
    return Quantity.fromBigInt(usage.rootfsBytes + usage.logsBytes, 'BinarySI');
  }
  return undefined;
}

const ZERO = Quantity.fromBigInt(0n);

/**
 * @example evictionMessage({ resource: 'memory', pod, stats: { containers: [{ name: 'app', memoryWorkingSetBytes: 300n << 20n }] }, thresholdQuantity: parseQuantity('100Mi'), available: parseQuantity('50Mi') }).message
 *   // 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using 300Mi, request is 0, has larger consumption of memory. '
 */
export function evictionMessage(input: EvictionMessageInput, options?: FeatureGateOptions): EvictionMessage {
  const { resource, pod, stats } = input;
  let message = `The node was low on resource: ${resource}. `;
  if (input.thresholdQuantity !== undefined && input.available !== undefined) {
    message += `Threshold quantity: ${input.thresholdQuantity.toString()}, available: ${input.available.toString()}. `;
  }
  if (stats === null) return { message, annotations: {} };

  const annotations: Record<string, string> = {};
  const podName = pod.metadata?.name ?? '';
  if (resource === 'memory' && podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod)) {
    const podRequest = pod.spec?.resources?.requests?.memory;
    if (podRequest !== undefined && stats.memoryWorkingSetBytes !== undefined) {
      const used = Quantity.fromBigInt(stats.memoryWorkingSetBytes, 'BinarySI');
      const request = toQuantity(podRequest, 'spec.resources.requests.memory');
      message += `Pod ${podName} was using ${used.toString()}, request is ${request.toString()}, has larger consumption of ${resource}. `;
      annotations.offending_pod = podName;
      annotations.offending_pod_usage = used.toString();
    }
  }

  // Ephemeral containers cannot carry resources, so only regular and init containers are blamed.
  const containers: V1Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const offenders: string[] = [];
  const offenderUsage: string[] = [];
  for (const usage of stats.containers ?? []) {
    const container = containers.find((c) => c.name === usage.name);
    if (container === undefined) continue;
    const requestText = container.resources?.requests?.[resource];
    const request = requestText === undefined ? ZERO : toQuantity(requestText, `container ${container.name} request`);
    const used = containerUsage(resource, usage);
    if (used !== undefined && used.cmp(request) > 0) {
      message += `Container ${container.name} was using ${used.toString()}, request is ${request.toString()}, has larger consumption of ${resource}. `;
      offenders.push(container.name);
      offenderUsage.push(used.toString());
    }
  }
  annotations.offending_containers = offenders.join(',');
  annotations.offending_containers_usage = offenderUsage.join(',');
  annotations.starved_resource = resource;
  return { message, annotations };
}
