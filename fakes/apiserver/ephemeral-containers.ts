import { applyDefaultsInPlace } from './defaulting.js';
import { jsonEqual } from './patch.js';
import { isMirrorPod, writePodSubresource, type PodSubresourceWrite } from './pod-subresource.js';
import type { ApiRegistry } from './registry.js';
import { errors, type StatusCause } from './status.js';
import type { StoredObject } from './store.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { cloneJson, isJsonObject } from './types.js';
import { checkContainerIdentity, invalid, required, validateMetadata, validatePodSpec } from './validation.js';

/**
 * The pods/{name}/ephemeralcontainers subresource (kube-apiserver's EphemeralContainersREST with the
 * podEphemeralContainersStrategy): GET returns the whole pod; PUT and PATCH take a whole pod of which
 * only spec.ephemeralContainers is kept (spec, status and metadata otherwise stay as stored), validated
 * as ValidatePodEphemeralContainersUpdate does: containers may be added, never changed or removed, each
 * with a name unique across all of the pod's containers, a target that names a regular or init
 * container, and none of the fields an ephemeral container may not have.
 */

export type EphemeralContainersWrite = PodSubresourceWrite;

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];

/**
 * Container fields an ephemeral container must leave unset (the complement of upstream's
 * allowedEphemeralContainerFields): they would make the pod depend on a debugging container.
 */
const FORBIDDEN_FIELDS = ['ports', 'resources', 'resizePolicy', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'restartPolicy'] as const;

/** The fields of the ephemeral-container API that are Go pointers, slices or structs: set when non-zero. */
function isSet(field: (typeof FORBIDDEN_FIELDS)[number], value: JsonValue | undefined): boolean {
  if (value === undefined || value === null) return false;
  // resources is a struct: the empty one (which kubectl sends and defaulting adds) is its zero value.
  if (field === 'resources') return isJsonObject(value) ? Object.values(value).some((v) => v !== null && v !== undefined) : true;
  return true;
}

function forbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
}

/** A pod may not be created with ephemeral containers (upstream ValidatePodCreate). */
export function podCreateCauses(pod: KubeObject): StatusCause[] {
  const spec = pod['spec'];
  const list = isJsonObject(spec) ? spec['ephemeralContainers'] : undefined;
  if (Array.isArray(list) && list.length > 0) return [forbidden('spec.ephemeralContainers', 'cannot be set on create')];
  return [];
}

function namesOf(list: JsonValue | undefined): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((c) => (isJsonObject(c) && typeof c['name'] === 'string' ? [c['name']] : []));
}

/** Upstream validateEphemeralContainers over a pod spec (with containers already validated). */
export function ephemeralContainerCauses(spec: JsonObject): StatusCause[] {
  const list = spec['ephemeralContainers'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [invalid('spec.ephemeralContainers', list, 'must be a list')];
  const targets = new Set([...namesOf(spec['containers']), ...namesOf(spec['initContainers'])]);
  const names = new Set(targets);
  const causes: StatusCause[] = [];
  list.forEach((value, i) => {
    const path = `spec.ephemeralContainers[${i}]`;
    const c = checkContainerIdentity(value, path, causes, names);
    if (!c) return;
    const image = c['image'];
    if (typeof image !== 'string' || image === '') causes.push(required(`${path}.image`));
    const tmp = c['terminationMessagePolicy'];
    if (tmp === undefined || tmp === '') causes.push(required(`${path}.terminationMessagePolicy`));
    else if (typeof tmp !== 'string' || !TERMINATION_MESSAGE_POLICIES.includes(tmp)) causes.push(notSupported(`${path}.terminationMessagePolicy`, tmp, TERMINATION_MESSAGE_POLICIES));
    const pull = c['imagePullPolicy'];
    if (pull === undefined || pull === '') causes.push(required(`${path}.imagePullPolicy`));
    else if (typeof pull !== 'string' || !PULL_POLICIES.includes(pull)) causes.push(notSupported(`${path}.imagePullPolicy`, pull, PULL_POLICIES));
    const target = c['targetContainerName'];
    if (target !== undefined && target !== null && target !== '' && (typeof target !== 'string' || !targets.has(target))) {
      causes.push({ reason: 'FieldValueNotFound', message: `Not found: ${JSON.stringify(target)}`, field: `${path}.targetContainerName` });
    }
    for (const field of FORBIDDEN_FIELDS) {
      if (isSet(field, c[field])) causes.push(forbidden(`${path}.${field}`, 'cannot be set for an Ephemeral Container'));
    }
    // Subpaths are bind mounts that outlive the container until the pod goes: not for debugging containers.
    const mounts = c['volumeMounts'];
    if (Array.isArray(mounts)) {
      mounts.forEach((m, j) => {
        if (!isJsonObject(m)) return;
        for (const field of ['subPath', 'subPathExpr']) {
          const v = m[field];
          if (typeof v === 'string' && v !== '') causes.push(forbidden(`${path}.volumeMounts[${j}].${field}`, 'cannot be set for an Ephemeral Container'));
        }
      });
    }
  });
  return causes;
}

function notSupported(field: string, value: JsonValue, allowed: string[]): StatusCause {
  return {
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    field,
  };
}

/** Existing ephemeral containers may be neither removed nor changed (the second half of the update rule). */
function changedOrRemovedCauses(oldList: JsonValue | undefined, newList: JsonValue | undefined): StatusCause[] {
  const byName = new Map<string, JsonValue>();
  if (Array.isArray(newList)) for (const c of newList) if (isJsonObject(c) && typeof c['name'] === 'string') byName.set(c['name'], c);
  const causes: StatusCause[] = [];
  for (const old of Array.isArray(oldList) ? oldList : []) {
    if (!isJsonObject(old) || typeof old['name'] !== 'string') continue;
    const now = byName.get(old['name']);
    if (now === undefined) causes.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(old['name'])} may not be removed\n`));
    else if (!jsonEqual(old, now)) causes.push(forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(old['name'])} may not be changed\n`));
  }
  return causes;
}

/**
 * PUT or PATCH of pods/{name}/ephemeralcontainers. Returns the stored pod (unchanged when the write
 * changed nothing, a copy that was not stored on a dry run).
 */
export function writeEphemeralContainers(
  registry: ApiRegistry,
  namespace: string,
  name: string,
  write: EphemeralContainersWrite,
  options: { dryRun?: boolean } = {},
): StoredObject {
  return writePodSubresource(registry, namespace, name, write, options.dryRun ?? false, (old, incoming) => keepEphemeralContainers(registry, name, old, incoming));
}

/** The pod to store: the stored one with the incoming spec.ephemeralContainers, validated (throws 422 naming the fields). */
function keepEphemeralContainers(registry: ApiRegistry, name: string, old: KubeObject, incoming: KubeObject): KubeObject {
  // Everything but spec.ephemeralContainers stays as stored (upstream dropNonEphemeralContainerUpdates).
  const next = cloneJson(old);
  const spec = isJsonObject(next['spec']) ? next['spec'] : (next['spec'] = {});
  const incomingSpec = isJsonObject(incoming['spec']) ? incoming['spec'] : {};
  const list = incomingSpec['ephemeralContainers'];
  if (list === undefined || list === null) delete spec['ephemeralContainers'];
  else spec['ephemeralContainers'] = cloneJson(list);
  const defaulted = applyDefaultsInPlace(next);
  const defaultedSpec = defaulted['spec'] as JsonObject;

  if (isMirrorPod(old)) {
    throw errors.invalid('Pod', name, '', [forbidden('', 'static pods do not support ephemeral containers')]);
  }
  const causes = [
    ...validateMetadata(defaulted, registry.type('', 'pods').nameRule),
    ...validatePodSpec(defaultedSpec),
    ...ephemeralContainerCauses(defaultedSpec),
    ...changedOrRemovedCauses((old['spec'] as JsonObject | undefined)?.['ephemeralContainers'], defaultedSpec['ephemeralContainers']),
  ];
  if (causes.length > 0) throw errors.invalid('Pod', name, '', causes);
  return defaulted;
}
