/**
 * Eviction signals (kubelet-semantics §5.1, upstream eviction/api/types.go and helpers.go): the
 * resource each one reclaims and the node condition it reports.
 */

export const EVICTION_SIGNALS = [
  'memory.available',
  'allocatableMemory.available',
  'nodefs.available',
  'nodefs.inodesFree',
  'imagefs.available',
  'imagefs.inodesFree',
  'containerfs.available',
  'containerfs.inodesFree',
  'pid.available',
] as const;

export type EvictionSignal = (typeof EVICTION_SIGNALS)[number];

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

/** What a signal measures: memory, disk bytes (ephemeral-storage), inodes or pids. */
export type SignalResource = 'memory' | 'ephemeral-storage' | 'inodes' | 'pids';

const SIGNAL_INFO: Readonly<Record<EvictionSignal, { resource: SignalResource; condition: PressureCondition }>> = {
  'memory.available': { resource: 'memory', condition: 'MemoryPressure' },
  'allocatableMemory.available': { resource: 'memory', condition: 'MemoryPressure' },
  'nodefs.available': { resource: 'ephemeral-storage', condition: 'DiskPressure' },
  'nodefs.inodesFree': { resource: 'inodes', condition: 'DiskPressure' },
  'imagefs.available': { resource: 'ephemeral-storage', condition: 'DiskPressure' },
  'imagefs.inodesFree': { resource: 'inodes', condition: 'DiskPressure' },
  'containerfs.available': { resource: 'ephemeral-storage', condition: 'DiskPressure' },
  'containerfs.inodesFree': { resource: 'inodes', condition: 'DiskPressure' },
  'pid.available': { resource: 'pids', condition: 'PIDPressure' },
};

/** @example isEvictionSignal('memory.free') // false */
export function isEvictionSignal(name: string): name is EvictionSignal {
  return Object.prototype.hasOwnProperty.call(SIGNAL_INFO, name);
}

/** @example signalResource('nodefs.inodesFree') // 'inodes' */
export function signalResource(signal: EvictionSignal): SignalResource {
  return SIGNAL_INFO[signal].resource;
}

/** @example signalCondition('pid.available') // 'PIDPressure' */
export function signalCondition(signal: EvictionSignal): PressureCondition {
  return SIGNAL_INFO[signal].condition;
}
