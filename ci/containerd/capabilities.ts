/** Linux capability sets of a process, read from the Cap* lines of /proc/<pid>/status. */
import { readFileSync } from 'node:fs';

/** Bit numbers from linux/capability.h, for the capabilities the environment cares about. */
export const CAPABILITY_BITS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_SYS_RESOURCE: 24 } as const;
export type CapabilityName = keyof typeof CAPABILITY_BITS;

export interface CapabilitySets {
  readonly effective: bigint;
  readonly bounding: bigint;
}

export function parseCapabilitySets(status: string): CapabilitySets {
  const read = (field: string): bigint => {
    const match = new RegExp(`^${field}:\\s*([0-9a-fA-F]+)\\s*$`, 'm').exec(status);
    if (!match) throw new Error(`process status has no ${field} line`);
    return BigInt(`0x${match[1]}`);
  };
  return { effective: read('CapEff'), bounding: read('CapBnd') };
}

/** A capability this process and its children can use: in the effective set and not dropped from the bounding set. */
export function hasCapability(sets: CapabilitySets, name: CapabilityName): boolean {
  const bit = 1n << BigInt(CAPABILITY_BITS[name]);
  return (sets.effective & bit) !== 0n && (sets.bounding & bit) !== 0n;
}

export function ownCapabilities(): CapabilitySets {
  return parseCapabilitySets(readFileSync('/proc/self/status', 'utf8'));
}
