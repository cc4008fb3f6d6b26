import type { V1ConfigMap, V1ConfigMapVolumeSource, V1KeyToPath, V1Secret, V1SecretVolumeSource } from '@kubernetes/client-node';

/** Files of a projected volume: relative path → content and mode. */
export type Payload = Map<string, { data: Buffer; mode: number }>;

/** Default file mode of configMap/secret volumes (API defaulting: 0644). */
export const DEFAULT_PROJECTION_MODE = 0o644;

/** A projection the spec or the referenced object makes impossible; `field` points into the volume source. */
export class ProjectionError extends Error {
  override readonly name = 'ProjectionError';
  readonly field: string | undefined;
  /** False when the object may still appear (not found yet): worth retrying. */
  readonly permanent: boolean;
  constructor(message: string, options: { field?: string; permanent?: boolean } = {}) {
    super(message);
    this.field = options.field;
    this.permanent = options.permanent ?? true;
  }
}

/**
 * Checks one payload path as kubelet's AtomicWriter does: relative, no `..` element, not starting
 * with `..` (reserved for the writer's own `..data` and timestamp directories), bounded length.
 */
export function validatePayloadPath(path: string, field: string): string {
  if (path === '') throw new ProjectionError('invalid path: must not be empty', { field });
  if (path.length > 4096) throw new ProjectionError('invalid path: must be less than or equal to 4096 characters', { field });
  if (path.startsWith('/')) throw new ProjectionError('invalid path: must be relative path', { field });
  const items = path.split('/');
  for (const item of items) {
    if (item === '..') throw new ProjectionError("invalid path: must not contain '..'", { field });
    if (item.length > 255) throw new ProjectionError('invalid path: filenames must be less than or equal to 255 characters', { field });
  }
  if ((items[0] ?? '').startsWith('..')) throw new ProjectionError("invalid path: must not start with '..'", { field });
  // Clean the way filepath.Clean would for relative paths without `..`.
  const clean = items.filter((i) => i !== '' && i !== '.').join('/');
  if (clean === '') throw new ProjectionError('invalid path: must not be empty', { field });
  return clean;
}

export function checkMode(mode: number | undefined, field: string): number | undefined {
  if (mode === undefined) return undefined;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new ProjectionError(`must be a number between 0 and 0777 (octal), both inclusive (got ${mode})`, { field });
  }
  return mode;
}

/** Adds a file, refusing paths where one file would have to be a directory of another. */
export function addFile(payload: Payload, path: string, data: Buffer, mode: number, field: string): void {
  for (const existing of payload.keys()) {
    if (existing === path) throw new ProjectionError(`duplicate path ${JSON.stringify(path)}`, { field });
    if (existing.startsWith(`${path}/`) || path.startsWith(`${existing}/`)) {
      throw new ProjectionError(`path ${JSON.stringify(path)} conflicts with ${JSON.stringify(existing)}`, { field });
    }
  }
  payload.set(path, { data, mode });
}

/**
 * The files a key/value object projects: every key at its own name, or only `items` at their paths.
 * A missing item key fails unless the source is optional (then it is left out), as upstream.
 */
function keyedPayload(
  entries: ReadonlyMap<string, Buffer>,
  items: readonly V1KeyToPath[] | undefined,
  defaultMode: number | undefined,
  optional: boolean,
  field: string,
  missingKey: (key: string) => string,
): Payload {
  const payload: Payload = new Map();
  const mode = checkMode(defaultMode, `${field}.defaultMode`) ?? DEFAULT_PROJECTION_MODE;
  if (!items || items.length === 0) {
    for (const [key, data] of entries) addFile(payload, validatePayloadPath(key, `${field}.data[${JSON.stringify(key)}]`), data, mode, field);
    return payload;
  }
  items.forEach((item, i) => {
    const at = `${field}.items[${i}]`;
    const data = entries.get(item.key);
    if (data === undefined) {
      if (optional) return;
      throw new ProjectionError(missingKey(item.key), { field: `${at}.key`, permanent: false });
    }
    const path = validatePayloadPath(item.path, `${at}.path`);
    addFile(payload, path, data, checkMode(item.mode, `${at}.mode`) ?? mode, at);
  });
  return payload;
}

function decodeBase64(text: string, field: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) {
    throw new ProjectionError('is not valid base64', { field, permanent: false });
  }
  return Buffer.from(text, 'base64');
}

/** Files of a configMap volume (`data` as UTF-8, `binaryData` base64-decoded). `object` null = not found. */
export function configMapPayload(source: V1ConfigMapVolumeSource, object: V1ConfigMap | null, field: string): Payload {
  const optional = source.optional ?? false;
  if (!object) {
    if (optional) return new Map();
    throw new ProjectionError(`configmap ${JSON.stringify(source.name ?? '')} not found`, { field: `${field}.name`, permanent: false });
  }
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(object.data ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries(object.binaryData ?? {})) entries.set(k, decodeBase64(v, `configmap.binaryData[${JSON.stringify(k)}]`));
  return keyedPayload(entries, source.items, source.defaultMode, optional, field, (key) => `configmap references non-existent config key: ${key}`);
}

/** Files of a secret volume (`data` base64-decoded). `object` null = not found. */
export function secretPayload(source: V1SecretVolumeSource, object: V1Secret | null, field: string): Payload {
  const optional = source.optional ?? false;
  if (!object) {
    if (optional) return new Map();
    throw new ProjectionError(`secret ${JSON.stringify(source.secretName ?? '')} not found`, { field: `${field}.secretName`, permanent: false });
  }
  const entries = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(object.data ?? {})) entries.set(k, decodeBase64(v, `secret.data[${JSON.stringify(k)}]`));
  // stringData is write-only in the API, but objects built in tests may carry it.
  for (const [k, v] of Object.entries(object.stringData ?? {})) entries.set(k, Buffer.from(v, 'utf8'));
  return keyedPayload(entries, source.items, source.defaultMode, optional, field, (key) => `references non-existent secret key: ${key}`);
}

/** Does `payload` equal what is on disk (`current`: path → content and mode)? Then nothing needs writing. */
export function samePayload(payload: Payload, current: ReadonlyMap<string, { data: Buffer; mode: number }>): boolean {
  if (payload.size !== current.size) return false;
  for (const [path, file] of payload) {
    const now = current.get(path);
    if (!now || now.mode !== file.mode || !now.data.equals(file.data)) return false;
  }
  return true;
}

/** Top-level names (first path element) the user sees in the volume directory. */
export function userVisibleNames(paths: Iterable<string>): Set<string> {
  return new Set([...paths].map((p) => p.split('/')[0] as string));
}
