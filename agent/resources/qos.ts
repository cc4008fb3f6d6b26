/**
 * Pod QoS class (kubelet-semantics §1; upstream qos.GetPodQOS / ComputePodQOS). Only cpu and memory
 * count, zero or negative quantities count as absent, and init containers (sidecars included) count
 * like regular ones (kubernetes #75212). QoS is computed on the spec as given: apply
 * `defaultPodRequests` first for pods the API server has not defaulted (static pods).
 */
import type { V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { Quantity, toQuantity } from './quantity.js';
import { isPodLevelResourcesSet, podLevelResourcesEnabled, type FeatureGateOptions } from './pod-requests.js';

export type QOSClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const QOS_RESOURCES = ['cpu', 'memory'] as const;
const QOS_CLASSES: ReadonlySet<string> = new Set(['Guaranteed', 'Burstable', 'BestEffort']);
const ZERO = Quantity.fromBigInt(0n);

interface Collected {
  requests: Map<string, Quantity>;
  limits: Map<string, Quantity>;
  /** Every container (or the pod level) had positive cpu and memory limits. */
  allHaveCpuAndMemoryLimits: boolean;
}

/** Adds the positive cpu/memory entries of `list` into `sums`; returns the names it added. */
function addPositive(
  sums: Map<string, Quantity>,
  list: Readonly<Record<string, string>> | undefined,
  field: string,
): Set<string> {
  const found = new Set<string>();
  if (list === undefined || list === null) return found;
  for (const name of QOS_RESOURCES) {
    const text = list[name];
    if (text === undefined) continue;
    const quantity = toQuantity(text, `${field}.${name}`);
    if (quantity.cmp(ZERO) <= 0) continue;
    found.add(name);
    const current = sums.get(name);
    sums.set(name, current === undefined ? quantity : current.add(quantity));
  }
  return found;
}

function collect(sources: ReadonlyArray<{ resources: V1ResourceRequirements | undefined; field: string }>): Collected {
  const collected: Collected = { requests: new Map(), limits: new Map(), allHaveCpuAndMemoryLimits: true };
  for (const { resources, field } of sources) {
    addPositive(collected.requests, resources?.requests, `${field}.requests`);
    const limited = addPositive(collected.limits, resources?.limits, `${field}.limits`);
    if (!limited.has('cpu') || !limited.has('memory')) collected.allHaveCpuAndMemoryLimits = false;
  }
  return collected;
}

function containerSources(pod: V1Pod): Array<{ resources: V1ResourceRequirements | undefined; field: string }> {
  const of = (list: V1Container[] | undefined, kind: string) =>
    (list ?? []).map((c, i) => ({ resources: c.resources, field: `spec.${kind}[${i}].resources` }));
  // Ephemeral containers cannot carry resources and never count.
  return [...of(pod.spec?.containers, 'containers'), ...of(pod.spec?.initContainers, 'initContainers')];
}

/**
 * The QoS class upstream ComputePodQOS gives the spec (ignoring `status.qosClass`).
 * @example computePodQOS({ spec: { containers: [{ name: 'a', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }] } }) // 'Guaranteed'
 */
export function computePodQOS(pod: V1Pod, options?: FeatureGateOptions): QOSClass {
  const podLevel = podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod);
  const { requests, limits, allHaveCpuAndMemoryLimits } = podLevel
    ? collect([{ resources: pod.spec?.resources, field: 'spec.resources' }])
    : collect(containerSources(pod));
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (!allHaveCpuAndMemoryLimits || requests.size !== limits.size) return 'Burstable';
  for (const [name, request] of requests) {
    const limit = limits.get(name);
    if (limit === undefined || limit.cmp(request) !== 0) return 'Burstable';
  }
  return 'Guaranteed';
}

/**
 * The pod's QoS class as the kubelet reads it (upstream GetPodQOS): `status.qosClass` when the API
 * server set it, otherwise computed from the spec.
 * @example podQOSClass({ spec: { containers: [{ name: 'a' }] } }) // 'BestEffort'
 */
export function podQOSClass(pod: V1Pod, options?: FeatureGateOptions): QOSClass {
  const recorded = pod.status?.qosClass;
  if (recorded !== undefined && recorded !== null && QOS_CLASSES.has(recorded)) return recorded as QOSClass;
  return computePodQOS(pod, options);
}
