/**
 * The kubelet's resource admission check (kubelet-semantics §6.6; upstream lifecycle/predicate.go
 * with the scheduler's noderesources fitsRequest): does the pod fit in node allocatable next to the
 * pods already admitted?
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Quantity } from './quantity.js';
import { podLevelResourcesEnabled, podRequests, type FeatureGateOptions } from './pod-requests.js';
import { parseResourceList, type ResourceListInput } from './resource-list.js';

export interface InsufficientResource {
  readonly resource: string;
  /** cpu in millicores, everything else in whole units. */
  readonly requested: bigint;
  readonly used: bigint;
  readonly capacity: bigint;
}

export type PodFitResult =
  | { readonly admit: true }
  | {
      readonly admit: false;
      /** `OutOfpods`, `OutOfcpu`, `OutOfmemory`, `OutOfephemeral-storage`, `OutOf<extended resource>`. */
      readonly reason: string;
      /** "Node didn't have enough resource: <res>, requested: <n>, used: <n>, capacity: <n>" */
      readonly message: string;
      /** Every shortfall, in upstream's order (pods, cpu, memory, ephemeral-storage, then by name). */
      readonly insufficient: readonly InsufficientResource[];
    };

export interface PodFitContext extends FeatureGateOptions {
  readonly allocatable: ResourceListInput;
  /** Pods already admitted to the node; terminal ones (Succeeded/Failed) are ignored. */
  readonly admittedPods: readonly V1Pod[];
}

const FIXED = new Set(['cpu', 'memory', 'ephemeral-storage', 'pods']);

/** Upstream IsExtendedResourceName: outside kubernetes.io, qualified with a domain, not `requests.*`. */
function isExtendedResource(name: string): boolean {
  if (!name.includes('/')) return false;
  if (name.startsWith('kubernetes.io/') || name.includes('.kubernetes.io/')) return false;
  return !name.startsWith('requests.');
}

/** A request as the scheduler's Resource type holds it: millicores for cpu, whole units otherwise. */
function amount(name: string, quantity: Quantity): bigint {
  return name === 'cpu' ? quantity.milliValue() : quantity.value();
}

function isTerminal(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/**
 * Each admission sums the requests of every admitted pod, so a burst of n pods would parse n² resource
 * lists. Pod objects are values here (an informer replaces a pod on update, never edits it), so the
 * amounts are kept per object and per PodLevelResources setting.
 */
const amountsByPod = new WeakMap<V1Pod, { readonly gate: boolean; readonly amounts: ReadonlyMap<string, bigint> }>();

function admittedAmounts(pod: V1Pod, gate: boolean, options: FeatureGateOptions): ReadonlyMap<string, bigint> {
  const cached = amountsByPod.get(pod);
  if (cached !== undefined && cached.gate === gate) return cached.amounts;
  const amounts = new Map<string, bigint>();
  for (const [name, quantity] of Object.entries(podRequests(pod, options))) amounts.set(name, amount(name, quantity));
  amountsByPod.set(pod, { gate, amounts });
  return amounts;
}

/**
 * @example podFitsResources(pod, { allocatable: { cpu: '2', memory: '4Gi', pods: '110' }, admittedPods: [] })
 *   // { admit: true } or { admit: false, reason: 'OutOfcpu', message: "Node didn't have enough resource: cpu, requested: 3000, used: 0, capacity: 2000", … }
 */
export function podFitsResources(pod: V1Pod, context: PodFitContext): PodFitResult {
  const allocatable = parseResourceList(context.allocatable, 'allocatable');
  const requested = podRequests(pod, context);
  const used = new Map<string, bigint>();
  const gate = podLevelResourcesEnabled(context);
  // One plain pass over every admitted pod per admission: no copies of the list, and no iterator for
  // pods that request nothing (a burst admits each pod next to all the others).
  const admittedPods = context.admittedPods;
  let admittedCount = 0;
  for (let i = 0; i < admittedPods.length; i++) {
    const p = admittedPods[i]!;
    if (isTerminal(p)) continue;
    admittedCount++;
    let amounts: ReadonlyMap<string, bigint>;
    try {
      amounts = admittedAmounts(p, gate, context);
    } catch (error) {
      throw new Error(`admittedPods[${i}]: ${(error as Error).message}`, { cause: error });
    }
    if (amounts.size === 0) continue;
    for (const [name, value] of amounts) used.set(name, (used.get(name) ?? 0n) + value);
  }
  const capacityOf = (name: string): bigint => {
    const q = allocatable[name];
    return q === undefined ? 0n : amount(name, q);
  };

  const insufficient: InsufficientResource[] = [];
  const allowedPods = capacityOf('pods');
  if (BigInt(admittedCount) + 1n > allowedPods) {
    insufficient.push({ resource: 'pods', requested: 1n, used: BigInt(admittedCount), capacity: allowedPods });
  }
  const check = (name: string, quantity: Quantity | undefined) => {
    if (quantity === undefined) return;
    const want = amount(name, quantity);
    if (want <= 0n) return;
    const have = capacityOf(name);
    const inUse = used.get(name) ?? 0n;
    if (want > have - inUse) insufficient.push({ resource: name, requested: want, used: inUse, capacity: have });
  };
  check('cpu', requested.cpu);
  check('memory', requested.memory);
  check('ephemeral-storage', requested['ephemeral-storage']);
  const scalars = Object.keys(requested)
    .filter((name) => !FIXED.has(name))
    // Extended resources the node does not advertise at all are left to other admitters.
    .filter((name) => !isExtendedResource(name) || allocatable[name] !== undefined)
    .sort();
  for (const name of scalars) check(name, requested[name]);

  const first = insufficient[0];
  if (first === undefined) return { admit: true };
  return {
    admit: false,
    reason: `OutOf${first.resource}`,
    message: `Node didn't have enough resource: ${first.resource}, requested: ${first.requested}, used: ${first.used}, capacity: ${first.capacity}`,
    insufficient,
  };
}
