import type { V1Container, V1DownwardAPIVolumeFile, V1Pod } from '@kubernetes/client-node';
import { parseQuantity, type Quantity } from '../resources/quantity.js';
import { DEFAULT_PROJECTION_MODE, ProjectionError, checkMode, validatePayloadPath, type Payload } from './projection.js';

/** What `resourceFieldRef` falls back to for unset limits: the node's allocatable (kubelet merges it in). */
export type NodeAllocatable = Readonly<Record<string, string>>;

/** `k="v"` lines sorted by key, values quoted Go-style: kubelet's format for labels and annotations files. */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${goQuote(map[k] as string)}`)
    .join('\n');
}

/** strconv.Quote for the characters labels and annotations realistically hold. */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The value of a `fieldRef` in a downward API volume (only metadata fields are allowed there). */
export function fieldRefValue(pod: V1Pod, fieldPath: string, field: string): string {
  const meta = pod.metadata ?? {};
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels ?? {});
    case 'metadata.annotations':
      return formatMap(meta.annotations ?? {});
  }
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub) {
    const map = (sub[1] === 'labels' ? meta.labels : meta.annotations) ?? {};
    return map[sub[2] as string] ?? '';
  }
  throw new ProjectionError(
    `unsupported fieldPath ${JSON.stringify(fieldPath)}: volumes support metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations and their ['key'] forms`,
    { field },
  );
}

const RESOURCES = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'];

/**
 * The value of a `resourceFieldRef`: the container's request or limit divided by `divisor`, rounded
 * up (cpu in millicores before dividing). Unset limits are the node's allocatable, unset requests 0.
 */
export function resourceFieldRefValue(
  pod: V1Pod,
  ref: { containerName?: string; resource: string; divisor?: string },
  field: string,
  allocatable: NodeAllocatable | undefined,
): string {
  if (!RESOURCES.includes(ref.resource)) throw new ProjectionError(`unsupported resource ${JSON.stringify(ref.resource)}`, { field: `${field}.resource` });
  const containers: V1Container[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  const container = containers.find((c) => c.name === ref.containerName);
  if (!container) throw new ProjectionError(`container ${JSON.stringify(ref.containerName ?? '')} not found in the pod`, { field: `${field}.containerName` });
  const [kind, resource] = ref.resource.split('.') as ['limits' | 'requests', string];
  const quantity = (text: string | undefined, at: string): Quantity | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseQuantity(text);
    } catch (err) {
      throw new ProjectionError(`invalid quantity ${JSON.stringify(text)}: ${(err as Error).message}`, { field: at });
    }
  };
  let value = quantity(container.resources?.[kind]?.[resource] as string | undefined, `${field}`);
  if (!value && kind === 'limits') {
    value = quantity(allocatable?.[resource], 'node allocatable');
    if (!value) throw new ProjectionError(`no limit set and the node's allocatable ${resource} is unknown`, { field });
  }
  const divisor = quantity(ref.divisor ?? '1', `${field}.divisor`) as Quantity;
  if (divisor.sign() <= 0) throw new ProjectionError('must be a positive quantity', { field: `${field}.divisor` });
  const [num, den] = resource === 'cpu' ? [value?.milliValue() ?? 0n, divisor.milliValue()] : [value?.value() ?? 0n, divisor.value()];
  return (num <= 0n ? 0n : (num + den - 1n) / den).toString();
}

/** Files of a downward API volume (or a projected volume's downwardAPI source). */
export function downwardAPIPayload(
  pod: V1Pod,
  items: readonly V1DownwardAPIVolumeFile[],
  defaultMode: number | undefined,
  field: string,
  allocatable?: NodeAllocatable,
  into: Payload = new Map(),
): Payload {
  const mode = checkMode(defaultMode, `${field}.defaultMode`) ?? DEFAULT_PROJECTION_MODE;
  items.forEach((item, i) => {
    const at = `${field}.items[${i}]`;
    const path = validatePayloadPath(item.path, `${at}.path`);
    const hasField = item.fieldRef != null;
    const hasResource = item.resourceFieldRef != null;
    if (hasField === hasResource) throw new ProjectionError('exactly one of fieldRef and resourceFieldRef is required', { field: at });
    const text = hasField
      ? fieldRefValue(pod, item.fieldRef!.fieldPath, `${at}.fieldRef.fieldPath`)
      : resourceFieldRefValue(pod, item.resourceFieldRef!, `${at}.resourceFieldRef`, allocatable);
    if (into.has(path)) throw new ProjectionError(`duplicate path ${JSON.stringify(path)}`, { field: `${at}.path` });
    into.set(path, { data: Buffer.from(text, 'utf8'), mode: checkMode(item.mode, `${at}.mode`) ?? mode });
  });
  return into;
}
