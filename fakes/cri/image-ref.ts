import { hash } from 'node:crypto';

/**
 * Image reference parsing and normalisation as containerd's CRI plugin does it (docker reference
 * grammar, ParseDockerRef): a name without a registry gets "docker.io", a single-component Docker Hub
 * name gets "library/", a reference without tag or digest gets ":latest", and a reference with both tag
 * and digest keeps only the digest.
 */
export interface ImageRef {
  /** Registry host, e.g. "docker.io", "127.0.0.1:5000", "registry.k8s.io". */
  readonly domain: string;
  /** Repository path inside the registry, e.g. "library/busybox". */
  readonly path: string;
  readonly tag: string | null;
  readonly digest: string | null;
}

export class ImageRefError extends Error {}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/**
 * Parsed references by text: every sandbox resolves the pause image and every container its image, and
 * parsing is pure, so a kubelet's handful of references is parsed once. Bounded; invalid text is not kept.
 */
const parsed = new Map<string, ImageRef>();
const PARSED_LIMIT = 1024;

export function parseImageRef(text: string): ImageRef {
  const known = parsed.get(text);
  if (known) return known;
  const ref = Object.freeze(parseImageRefText(text));
  if (parsed.size >= PARSED_LIMIT) parsed.clear();
  parsed.set(text, ref);
  return ref;
}

function parseImageRefText(text: string): ImageRef {
  if (text.length === 0) throw new ImageRefError('invalid reference format: empty reference');
  if (text.length > 255 + 200) throw new ImageRefError('invalid reference format: reference too long');
  let rest = text;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageRefError(`invalid reference format: bad digest "${digest}"`);
    if (digest.startsWith('sha256:') && digest.length !== 'sha256:'.length + 64) {
      throw new ImageRefError('invalid checksum digest length');
    }
  }
  let tag: string | null = null;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageRefError(`invalid reference format: bad tag "${tag}"`);
  }
  const slash = rest.indexOf('/');
  let domain = 'docker.io';
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase()) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN.test(domain)) throw new ImageRefError(`invalid reference format: bad registry "${domain}"`);
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (path.length === 0) throw new ImageRefError('invalid reference format: empty repository name');
  if (path !== path.toLowerCase()) {
    throw new ImageRefError('invalid reference format: repository name must be lowercase');
  }
  for (const component of path.split('/')) {
    if (!COMPONENT.test(component)) throw new ImageRefError(`invalid reference format: bad path component "${component}"`);
  }
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (digest !== null) return { domain, path, tag: null, digest };
  return { domain, path, tag: tag ?? 'latest', digest: null };
}

export function repository(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** The fully normalised reference string containerd stores, e.g. "docker.io/library/busybox:latest". */
export function formatImageRef(ref: ImageRef): string {
  if (ref.digest !== null) return `${repository(ref)}@${ref.digest}`;
  return `${repository(ref)}:${ref.tag ?? 'latest'}`;
}

export function normalizeImageRef(text: string): string {
  return formatImageRef(parseImageRef(text));
}

/** A full image ID or bare 64-hex ID (what ImageStatus/RemoveImage also accept instead of a reference). */
export function asImageId(text: string): string | null {
  if (/^sha256:[0-9a-f]{64}$/.test(text)) return text;
  return null;
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}
