import { asImageId, formatImageRef, ImageRefError, parseImageRef, repository, sha256Hex, type ImageRef } from './image-ref.js';
import { Code, CriError, invalidArgument, type CodeValue } from './errors.js';

/** What a registry would answer for a reference (the fake has no registry; rules decide). */
export type PullOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'not-found' }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'error'; readonly code: CodeValue; readonly message: string };

export interface ImagePullRule {
  /** Matched against the normalised reference: a RegExp, or a substring. */
  readonly match: RegExp | string;
  readonly outcome: PullOutcome;
  /** Extra pull time on the clock, e.g. to test image pull timeouts and progress deadlines. */
  readonly delayMs?: number;
  /** Image size in bytes to report instead of the derived one. */
  readonly sizeBytes?: number;
}

export interface StoredImage {
  /** "sha256:<hex>" image (config) ID, what PullImage returns as image_ref. */
  readonly id: string;
  readonly repoTags: string[];
  readonly repoDigests: string[];
  readonly sizeBytes: number;
  readonly pinned: boolean;
  /** Monotonic ms of the pull, for ordering. */
  readonly pulledAt: number;
}

/**
 * References with a path component or tag that says the image is missing fail like a registry 404.
 * Tests use e.g. "registry.invalid/harness/does-not-exist:1".
 */
export const DEFAULT_PULL_RULES: readonly ImagePullRule[] = [
  { match: /(^|[/:])(does-not-exist|nonexistent|not-found)([/:@-]|$)/, outcome: { kind: 'not-found' } },
];

/**
 * The fake's image store: deterministic digests derived from the normalised reference, so a given
 * reference always yields the same ID and repo digest in every run.
 */
export class ImageStore {
  private readonly images = new Map<string, StoredImage>();
  private readonly normalizedRefs = new Map<string, string | null>();

  constructor(
    private readonly rules: ImagePullRule[] = [...DEFAULT_PULL_RULES],
  ) {}

  addRule(rule: ImagePullRule, first = true): void {
    if (first) this.rules.unshift(rule);
    else this.rules.push(rule);
  }

  /** The rule that applies to a normalised reference, if any. */
  ruleFor(normalized: string): ImagePullRule | undefined {
    return this.rules.find((r) => (typeof r.match === 'string' ? normalized.includes(r.match) : r.match.test(normalized)));
  }

  /** Parses a reference for PullImage; malformed references name the request field. */
  parse(text: string, field = 'image.image'): ImageRef {
    try {
      return parseImageRef(text);
    } catch (err) {
      if (err instanceof ImageRefError) {
        throw invalidArgument(`${field}: failed to parse image reference "${text}": ${err.message}`);
      }
      throw err;
    }
  }

  /**
   * Completes a pull (after any delay the caller applied): stores the image, or throws the error a
   * containerd pulling from a registry that answered 404/401 would return.
   */
  pull(text: string, nowMonotonic: number, options: { pinned?: boolean } = {}): StoredImage {
    const ref = this.parse(text);
    const normalized = formatImageRef(ref);
    const rule = this.ruleFor(normalized);
    const outcome = rule?.outcome ?? { kind: 'ok' };
    const prefix = `failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}"`;
    switch (outcome.kind) {
      case 'not-found':
        throw new CriError(Code.NOT_FOUND, `${prefix}: ${normalized}: not found`);
      case 'unauthorized':
        throw new CriError(
          Code.UNKNOWN,
          `${prefix}: pulling from host ${ref.domain} failed with status code [manifests ${ref.tag ?? ref.digest}]: 401 Unauthorized`,
        );
      case 'error':
        throw new CriError(outcome.code, outcome.message);
      case 'ok':
        break;
    }
    const manifestDigest = ref.digest ?? `sha256:${sha256Hex(`fake-cri manifest\n${normalized}`)}`;
    const id = `sha256:${sha256Hex(`fake-cri config\n${manifestDigest}`)}`;
    const existing = this.images.get(id);
    const repoTags = new Set(existing?.repoTags ?? []);
    const repoDigests = new Set(existing?.repoDigests ?? []);
    if (ref.tag !== null) repoTags.add(normalized);
    repoDigests.add(`${repository(ref)}@${manifestDigest}`);
    const image: StoredImage = {
      id,
      repoTags: [...repoTags],
      repoDigests: [...repoDigests],
      sizeBytes: rule?.sizeBytes ?? existing?.sizeBytes ?? derivedSize(ref, id),
      pinned: (existing?.pinned ?? false) || (options.pinned ?? false),
      pulledAt: existing?.pulledAt ?? nowMonotonic,
    };
    this.images.set(id, image);
    return image;
  }

  /** Resolves a reference or image ID to a stored image (ImageStatus, CreateContainer, RemoveImage). */
  resolve(refOrId: string): StoredImage | undefined {
    const id = asImageId(refOrId);
    if (id) return this.images.get(id);
    const normalized = this.normalize(refOrId);
    if (normalized === null) return undefined;
    for (const image of this.images.values()) {
      if (image.repoTags.includes(normalized) || image.repoDigests.includes(normalized)) return image;
    }
    return undefined;
  }

  /**
   * The normalised form of a reference (null when malformed), remembered: every RunPodSandbox and
   * CreateContainer resolves the same few references, and parsing one is pure.
   */
  private normalize(ref: string): string | null {
    let normalized = this.normalizedRefs.get(ref);
    if (normalized === undefined) {
      try {
        normalized = formatImageRef(parseImageRef(ref));
      } catch {
        normalized = null;
      }
      if (this.normalizedRefs.size >= 256) this.normalizedRefs.clear();
      this.normalizedRefs.set(ref, normalized);
    }
    return normalized;
  }

  /** Removes the image and every reference to it (containerd deletes all of an image's names). */
  remove(refOrId: string): boolean {
    const image = this.resolve(refOrId);
    if (!image) return false;
    this.images.delete(image.id);
    return true;
  }

  list(): StoredImage[] {
    return [...this.images.values()].sort((a, b) => a.pulledAt - b.pulledAt || a.id.localeCompare(b.id));
  }

  totalBytes(): number {
    let sum = 0;
    for (const image of this.images.values()) sum += image.sizeBytes;
    return sum;
  }

  clear(): void {
    this.images.clear();
  }
}

/** Plausible, deterministic sizes: small for pause, a few MB for busybox, tens of MB otherwise. */
function derivedSize(ref: ImageRef, id: string): number {
  const seed = parseInt(id.slice(7, 15), 16);
  const name = ref.path.split('/').pop() ?? '';
  if (name === 'pause') return 250_000 + (seed % 100_000);
  if (name === 'busybox') return 2_000_000 + (seed % 500_000);
  return 5_000_000 + (seed % 60_000_000);
}
