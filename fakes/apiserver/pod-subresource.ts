import { applyPatch, jsonEqual, patchTypeOf, type PatchType } from './patch.js';
import { decodeObject, type ApiRegistry } from './registry.js';
import { resourceKey } from './resources.js';
import { errors } from './status.js';
import { StoredObject } from './store.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

/**
 * What the pod subresources that take a whole pod (ephemeralcontainers, resize) share: the write as
 * the HTTP layer hands it over, the incoming pod with kube-apiserver's preconditions checked, and the
 * GET/PUT/PATCH dispatch. Each subresource decides which fields of the incoming pod it keeps.
 */

export type PodSubresourceWrite =
  | { readonly verb: 'update'; readonly body: JsonValue | undefined }
  | { readonly verb: 'patch'; readonly patchType: PatchType; readonly patch: JsonValue };

/**
 * The pod a PUT or PATCH describes (a PATCH applied to the stored pod), after the checks every update
 * makes: the name matches the URL, a UID precondition matches, and a resourceVersion (a PUT's, or one
 * the patch itself carries) is the stored one.
 */
function incomingPod(registry: ApiRegistry, old: KubeObject, name: string, write: PodSubresourceWrite): KubeObject {
  const pods = registry.type('', 'pods');
  const incoming =
    write.verb === 'update'
      ? decodeObject(pods, write.body)
      : decodeObject(pods, applyPatch(write.patchType, old as unknown as JsonObject, write.patch));
  const resource = { group: '', plural: 'pods' };
  const bodyName = incoming.metadata.name;
  if (bodyName !== undefined && bodyName !== name) {
    throw errors.badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
  }
  if (incoming.metadata.uid && incoming.metadata.uid !== old.metadata.uid) {
    throw errors.conflict(resource, name, `Precondition failed: UID in precondition: ${incoming.metadata.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
  }
  const rv = write.verb === 'update' || write.patchType === 'json' ? incoming.metadata.resourceVersion : patchResourceVersion(write.patch);
  if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw errors.staleResourceVersion(resource, name);
  return incoming;
}

function patchResourceVersion(patch: JsonValue): string | undefined {
  const value = isJsonObject(patch) && isJsonObject(patch['metadata']) ? patch['metadata']['resourceVersion'] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** A mirror pod (the API's copy of a static pod): neither subresource may change one. */
export function isMirrorPod(pod: KubeObject): boolean {
  return pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined;
}

/**
 * A PUT or PATCH of a pod subresource: the incoming pod is checked against the stored one, `decide`
 * builds the pod to store from both (throwing to refuse), and the result is stored. Returns the stored
 * pod: unchanged when nothing changed, a copy that was not stored on a dry run.
 */
export function writePodSubresource(
  registry: ApiRegistry,
  namespace: string,
  name: string,
  write: PodSubresourceWrite,
  dryRun: boolean,
  decide: (old: KubeObject, incoming: KubeObject) => KubeObject,
): StoredObject {
  const existing = registry.get(registry.type('', 'pods'), namespace, name);
  const incoming = incomingPod(registry, existing.object, name, write);
  return storePodUpdate(registry, existing, decide(existing.object, incoming), dryRun);
}

/**
 * Stores `next` in place of `existing`: nothing is written when the pod did not change, a change
 * bumps metadata.generation, and a dry run returns the result unstored.
 */
function storePodUpdate(registry: ApiRegistry, existing: StoredObject, next: KubeObject, dryRun: boolean): StoredObject {
  const old = existing.object;
  if (jsonEqual(old as unknown as JsonValue, next as unknown as JsonValue)) return existing;
  next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  if (dryRun) return new StoredObject(next, existing.rv);
  return registry.store.replace(resourceKey(registry.type('', 'pods')), existing.namespace, existing.name, (newRv) => ({
    ...next,
    metadata: { ...next.metadata, resourceVersion: String(newRv) },
  }));
}

/**
 * One request to a pod subresource: GET reads the pod, PUT replaces it, PATCH patches it (the formats
 * of the main resource), anything else is 405. `write` stores the result.
 */
export async function servePodSubresource(
  registry: ApiRegistry,
  method: string,
  contentType: string | null,
  readBody: (what: 'object' | 'patch') => Promise<JsonValue | undefined>,
  namespace: string,
  name: string,
  write: (w: PodSubresourceWrite) => StoredObject,
): Promise<{ stored: StoredObject; verb: 'get' | 'update' | 'patch' }> {
  switch (method.toUpperCase()) {
    case 'GET':
      return { stored: registry.get(registry.type('', 'pods'), namespace, name), verb: 'get' };
    case 'PUT': {
      const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (type !== '' && type !== 'application/json' && type !== '*/*') throw errors.unsupportedMediaType(type);
      const body = await readBody('object');
      return { stored: write({ verb: 'update', body }), verb: 'update' };
    }
    case 'PATCH': {
      const patchType = patchTypeOf(contentType ?? '');
      if (!patchType) throw errors.unsupportedMediaType(contentType ?? '');
      const patch = (await readBody('patch')) ?? null;
      return { stored: write({ verb: 'patch', patchType, patch }), verb: 'patch' };
    }
    default:
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
}
