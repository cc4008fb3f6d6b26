import type { V1ContainerImage } from '@kubernetes/client-node';

/**
 * node.status.images from the runtime's image list (upstream nodestatus setters.go `Images` over the
 * image manager's size-sorted list): names are the repo digests then the repo tags, at most five per
 * image; images largest first; at most nodeStatusMaxImages of them (-1 = all, 0 = none).
 */

/** Upstream MaxNamesPerImageInNodeStatus. */
export const MAX_NAMES_PER_IMAGE_IN_NODE_STATUS = 5;

/** The fields of a CRI Image that the node status reads. */
export interface RuntimeImage {
  readonly id: string;
  readonly repoTags?: readonly string[];
  readonly repoDigests?: readonly string[];
  /** uint64 bytes; the CRI client hands it over as decimal text. */
  readonly size?: string | number | bigint;
}

function sizeOf(image: RuntimeImage): bigint {
  try {
    return BigInt(image.size ?? 0);
  } catch {
    // A runtime reporting a malformed size is listed as empty rather than failing the node status.
    return 0n;
  }
}

/**
 * Largest first; equal sizes by image ID, descending, as upstream's ByImageSize orders them so the
 * list does not reshuffle between updates.
 */
export function sortImagesBySize<T extends RuntimeImage>(images: readonly T[]): T[] {
  return [...images].sort((a, b) => {
    const sa = sizeOf(a);
    const sb = sizeOf(b);
    if (sa !== sb) return sa > sb ? -1 : 1;
    return a.id === b.id ? 0 : a.id > b.id ? -1 : 1;
  });
}

/**
 * @example nodeStatusImages([{ id: 'sha256:1', repoTags: ['busybox:1.36'], repoDigests: ['busybox@sha256:ab'], size: '4261550' }], 50)
 *   // [{ names: ['busybox@sha256:ab', 'busybox:1.36'], sizeBytes: 4261550 }]
 */
export function nodeStatusImages(images: readonly RuntimeImage[], maxImages: number): V1ContainerImage[] {
  let sorted = sortImagesBySize(images);
  if (maxImages > -1 && maxImages < sorted.length) sorted = sorted.slice(0, maxImages);
  return sorted.map((image) => ({
    names: [...(image.repoDigests ?? []), ...(image.repoTags ?? [])].slice(0, MAX_NAMES_PER_IMAGE_IN_NODE_STATUS),
    sizeBytes: Number(sizeOf(image)),
  }));
}
