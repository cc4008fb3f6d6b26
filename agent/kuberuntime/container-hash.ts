import type { V1Container } from '@kubernetes/client-node';

/**
 * The io.kubernetes.container.hash value. Current kubelets hash only the fields whose change requires a
 * restart — name and image — so editing anything else in place (resources, probes) never restarts a
 * container. FNV-1a 32 over a stable encoding, printed in hex like upstream's FormatUint(hash, 16);
 * the exact number differs from upstream's (it hashes Go's deep-print form), which no runtime observes.
 */
export function hashContainer(container: Pick<V1Container, 'name' | 'image'>): string {
  return fnv1a32(JSON.stringify([container.name, container.image ?? ''])).toString(16);
}

export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = new TextEncoder().encode(text);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
