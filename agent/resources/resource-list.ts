/**
 * Resource lists as the API carries them (`{ cpu: '100m' }` in a V1Pod) turned into Quantity maps,
 * with every bad value reported by the field path it came from.
 */
import { Quantity, toQuantity } from './quantity.js';

export type ResourceList = Readonly<Record<string, Quantity>>;
/** What callers may pass: quantities or quantity text, per resource name. */
export type ResourceListInput = Readonly<Record<string, Quantity | string | number>>;

/**
 * Parses every entry of `list`; a bad entry throws naming `field.<resource>`.
 * @example parseResourceList({ cpu: '1' }, 'capacity').cpu?.milliValue() // 1000n
 */
export function parseResourceList(list: ResourceListInput | undefined, field: string): Record<string, Quantity> {
  const out: Record<string, Quantity> = {};
  if (list === undefined || list === null) return out;
  for (const [name, value] of Object.entries(list)) out[name] = toQuantity(value, `${field}.${name}`);
  return out;
}

/** Adds `delta` into `target` entry by entry (upstream addResourceList). */
export function addInto(target: Record<string, Quantity>, delta: ResourceList): void {
  for (const [name, quantity] of Object.entries(delta)) {
    const current = target[name];
    target[name] = current === undefined ? quantity : current.add(quantity);
  }
}

/** Raises each entry of `target` to at least `other`'s (upstream maxResourceList). */
export function maxInto(target: Record<string, Quantity>, other: ResourceList): void {
  for (const [name, quantity] of Object.entries(other)) {
    const current = target[name];
    if (current === undefined || quantity.cmp(current) > 0) target[name] = quantity;
  }
}
