/**
 * Node allocatable (kubelet-semantics §6.1–6.4; upstream GetNodeAllocatableReservation,
 * hardEvictionReservation and the MachineInfo status setter):
 *   allocatable[r] = max(0, capacity[r] − systemReserved[r] − kubeReserved[r] − hardEviction[r])
 * where only memory.available (→ memory) and nodefs.available (→ ephemeral-storage) hard thresholds
 * reserve anything; then every hugepages-* capacity is taken out of allocatable memory.
 */
import { parseEvictionThresholds, thresholdQuantity } from '../eviction/thresholds.js';
import { Quantity } from './quantity.js';
import { parseResourceList, type ResourceListInput } from './resource-list.js';

export interface NodeAllocatableInput {
  readonly capacity: ResourceListInput;
  readonly kubeReserved?: ResourceListInput;
  readonly systemReserved?: ResourceListInput;
  /** signal → value as in KubeletConfiguration; undefined = the Linux default (100Mi, 10%, …), `{}` = none. */
  readonly evictionHard?: Readonly<Record<string, string>>;
  /** --experimental-allocatable-ignore-eviction: hard thresholds reserve nothing. */
  readonly ignoreHardEviction?: boolean;
}

const ZERO = Quantity.fromBigInt(0n);

/**
 * What the hard eviction thresholds hold back from `capacity` (upstream hardEvictionReservation).
 * @example hardEvictionReservation({ capacity: { memory: '8Gi' } }).memory?.toString() // '100Mi'
 */
export function hardEvictionReservation(input: NodeAllocatableInput): Record<string, Quantity> {
  const capacity = parseResourceList(input.capacity, 'capacity');
  const reservation: Record<string, Quantity> = {};
  if (input.ignoreHardEviction === true) return reservation;
  // Parsed alone: no soft thresholds, no allocatableMemory mirror.
  const thresholds = parseEvictionThresholds({
    ...(input.evictionHard === undefined ? {} : { evictionHard: input.evictionHard }),
    enforceNodeAllocatable: [],
  });
  for (const threshold of thresholds) {
    if (threshold.signal === 'memory.available') {
      reservation.memory = thresholdQuantity(threshold.value, capacity.memory ?? ZERO);
    } else if (threshold.signal === 'nodefs.available') {
      reservation['ephemeral-storage'] = thresholdQuantity(threshold.value, capacity['ephemeral-storage'] ?? ZERO);
    }
  }
  return reservation;
}

/**
 * systemReserved + kubeReserved + hard-eviction reservation for every capacity resource; zero
 * entries omitted (upstream GetNodeAllocatableReservation).
 * @example nodeAllocatableReservation({ capacity: { cpu: '4', memory: '8Gi' }, kubeReserved: { cpu: '100m' } }) // { cpu: 100m, memory: 100Mi }
 */
export function nodeAllocatableReservation(input: NodeAllocatableInput): Record<string, Quantity> {
  const capacity = parseResourceList(input.capacity, 'capacity');
  const systemReserved = parseResourceList(input.systemReserved, 'systemReserved');
  const kubeReserved = parseResourceList(input.kubeReserved, 'kubeReserved');
  const eviction = hardEvictionReservation(input);
  const result: Record<string, Quantity> = {};
  for (const name of Object.keys(capacity)) {
    let value = Quantity.fromBigInt(0n);
    for (const part of [systemReserved[name], kubeReserved[name], eviction[name]]) {
      if (part !== undefined) value = value.add(part);
    }
    if (!value.isZero()) result[name] = value;
  }
  return result;
}

/**
 * Allocatable per capacity resource, never negative.
 * @example nodeAllocatable({ capacity: { cpu: '4', memory: '8Gi', pods: '110' }, kubeReserved: { cpu: '100m' } })
 *   // { cpu: 3900m, memory: 8092Mi (8Gi − 100Mi), pods: 110 }
 */
export function nodeAllocatable(input: NodeAllocatableInput): Record<string, Quantity> {
  const capacity = parseResourceList(input.capacity, 'capacity');
  const reservation = nodeAllocatableReservation(input);
  const allocatable: Record<string, Quantity> = {};
  for (const [name, total] of Object.entries(capacity)) {
    const reserved = reservation[name];
    let value = reserved === undefined ? total : total.sub(reserved);
    if (value.sign() < 0) value = Quantity.fromBigInt(0n, value.format);
    allocatable[name] = value;
  }
  // Huge pages are carved out of memory: none of it is allocatable as regular memory.
  for (const [name, pages] of Object.entries(capacity)) {
    if (!name.startsWith('hugepages-')) continue;
    let memory = (allocatable.memory ?? ZERO).sub(pages);
    if (memory.sign() < 0) memory = Quantity.fromBigInt(0n, memory.format);
    allocatable.memory = memory;
  }
  return allocatable;
}
