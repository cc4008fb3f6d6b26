import type { V1Pod } from '@kubernetes/client-node';
import { computePodQOS } from '../../agent/resources/qos.js';
import { applyDefaultsInPlace } from './defaulting.js';
import { jsonEqual } from './patch.js';
import { isMirrorPod, writePodSubresource, type PodSubresourceWrite } from './pod-subresource.js';
import type { ApiRegistry } from './registry.js';
import { errors, type StatusCause } from './status.js';
import type { StoredObject } from './store.js';
import type { JsonObject, JsonValue } from './types.js';
import { cloneJson, isJsonObject } from './types.js';
import { validateMetadata, validatePodSpec } from './validation.js';

/**
 * The pods/{name}/resize subresource (kube-apiserver's ResizeREST with podResizeStrategy, as of
 * Kubernetes 1.35 where InPlacePodVerticalScaling is GA): GET returns the pod; PUT and PATCH take a whole
 * pod of which only the resources and resizePolicy of regular containers and sidecars are kept
 * (dropNonResizeUpdates), validated as ValidatePodResize: requests and limits may not be removed, only
 * cpu and memory may change, the QoS class must stay, and the resulting spec must be valid. A change
 * bumps metadata.generation, which the kubelet reports back as the resize's observedGeneration.
 */

const RESIZABLE_RESOURCES = ['cpu', 'memory'];
const RESIZE_RESTART_POLICIES = ['NotRequired', 'RestartContainer'];

type ContainerField = 'containers' | 'initContainers';

function containerList(spec: JsonValue | undefined, field: ContainerField): JsonObject[] {
  const list = isJsonObject(spec) ? spec[field] : undefined;
  return Array.isArray(list) ? list.filter(isJsonObject) : [];
}

/** Init containers take part in a resize only as sidecars (restartPolicy Always). */
function resizable(field: ContainerField, c: JsonObject): boolean {
  return field === 'containers' || c['restartPolicy'] === 'Always';
}

/** The stored pod with only the incoming containers' resources and resizePolicy carried over, by name. */
function keepResizeFields(old: JsonObject, incoming: JsonObject): JsonObject {
  const next = cloneJson(old);
  for (const field of ['containers', 'initContainers'] as const) {
    const byName = new Map(containerList(incoming['spec'], field).map((c) => [c['name'], c]));
    for (const c of containerList(next['spec'], field)) {
      if (!resizable(field, c)) continue;
      const now = byName.get(c['name']);
      if (now === undefined) continue;
      for (const key of ['resources', 'resizePolicy'] as const) {
        if (now[key] === undefined || now[key] === null) delete c[key];
        else c[key] = cloneJson(now[key]);
      }
    }
  }
  return next;
}

function listOf(c: JsonObject, which: 'requests' | 'limits'): JsonObject {
  const resources = c['resources'];
  const list = isJsonObject(resources) ? resources[which] : undefined;
  return isJsonObject(list) ? list : {};
}

/** Requests and limits may change but not disappear (upstream resourcesRemoved). */
function removedCauses(oldSpec: JsonValue | undefined, newSpec: JsonValue | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    const now = containerList(newSpec, field);
    containerList(oldSpec, field).forEach((c, i) => {
      if (!resizable(field, c)) return;
      const next = now[i];
      if (next === undefined) return;
      for (const which of ['requests', 'limits'] as const) {
        const before = Object.keys(listOf(c, which));
        const after = listOf(next, which);
        if (before.some((name) => after[name] === undefined)) {
          causes.push({ reason: 'FieldValueForbidden', message: `Forbidden: resource ${which} cannot be removed`, field: `spec.${field}[${i}].resources.${which}` });
        }
      }
    });
  }
  return causes;
}

/** The spec with every container's cpu/memory and resizePolicy put back as they were: what may not change. */
function withoutResizableChanges(newSpec: JsonObject, oldSpec: JsonObject): JsonObject {
  const copy = cloneJson(newSpec);
  for (const field of ['containers', 'initContainers'] as const) {
    const before = containerList(oldSpec, field);
    containerList(copy, field).forEach((c, i) => {
      const old = before[i];
      if (old === undefined || !resizable(field, old)) return;
      const resources: JsonObject = {};
      for (const which of ['limits', 'requests'] as const) {
        const oldList = isJsonObject(old['resources']) ? old['resources'][which] : undefined;
        if (!isJsonObject(oldList)) continue;
        const list = { ...listOf(c, which) };
        for (const name of RESIZABLE_RESOURCES) {
          delete list[name];
          if (oldList[name] !== undefined) list[name] = oldList[name];
        }
        resources[which] = list;
      }
      if (Object.keys(resources).length > 0 || old['resources'] !== undefined) c['resources'] = resources;
      else delete c['resources'];
      if (old['resizePolicy'] === undefined) delete c['resizePolicy'];
      else c['resizePolicy'] = cloneJson(old['resizePolicy']);
    });
  }
  return copy;
}

/** resourcesEqual ignoring an empty resources object against a missing one. */
function normalizedResources(spec: JsonObject): JsonObject {
  const copy = cloneJson(spec);
  for (const field of ['containers', 'initContainers'] as const) {
    for (const c of containerList(copy, field)) {
      const r = c['resources'];
      if (!isJsonObject(r)) continue;
      for (const which of ['requests', 'limits']) {
        const list = r[which];
        if (isJsonObject(list) && Object.keys(list).length === 0) delete r[which];
      }
      if (Object.keys(r).length === 0) delete c['resources'];
    }
  }
  return copy;
}

/** Upstream validateResizePolicy: cpu or memory, each at most once, NotRequired or RestartContainer. */
function resizePolicyCauses(spec: JsonValue | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const field of ['initContainers', 'containers'] as const) {
    containerList(spec, field).forEach((c, i) => {
      const list = c['resizePolicy'];
      if (list === undefined || list === null) return;
      const path = `spec.${field}[${i}].resizePolicy`;
      if (!Array.isArray(list)) {
        causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: must be a list', field: path });
        return;
      }
      const seen = new Set<string>();
      list.forEach((p, j) => {
        const name = isJsonObject(p) ? p['resourceName'] : undefined;
        const policy = isJsonObject(p) ? p['restartPolicy'] : undefined;
        if (typeof name !== 'string' || !RESIZABLE_RESOURCES.includes(name)) {
          causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(name ?? null)}: supported values: "cpu", "memory"`, field: `${path}[${j}]` });
        } else if (seen.has(name)) {
          causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(name)}`, field: `${path}[${j}]` });
        } else seen.add(name);
        if (typeof policy !== 'string' || !RESIZE_RESTART_POLICIES.includes(policy)) {
          causes.push({
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${JSON.stringify(policy ?? null)}: supported values: "NotRequired", "RestartContainer"`,
            field: `${path}[${j}]`,
          });
        }
      });
    });
  }
  return causes;
}

function qosOf(pod: JsonObject): string {
  const stored = isJsonObject(pod['status']) ? pod['status']['qosClass'] : undefined;
  return typeof stored === 'string' && stored !== '' ? stored : computePodQOS(pod as unknown as V1Pod);
}

/** Every reason ValidatePodResize gives for refusing `next` as a resize of `old`. */
export function podResizeCauses(old: JsonObject, next: JsonObject): StatusCause[] {
  const oldSpec = isJsonObject(old['spec']) ? old['spec'] : {};
  const newSpec = isJsonObject(next['spec']) ? next['spec'] : {};
  const causes = [...validatePodSpec(newSpec), ...resizePolicyCauses(newSpec)];
  if (causes.length > 0) return causes;
  const oldQos = qosOf(old);
  const newQos = computePodQOS(next as unknown as V1Pod);
  if (oldQos !== newQos) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(oldQos)}: Pod QOS Class may not change as a result of resizing`, field: 'spec' });
  }
  causes.push(...removedCauses(oldSpec, newSpec));
  if (!jsonEqual(normalizedResources(withoutResizableChanges(newSpec, oldSpec)), normalizedResources(oldSpec))) {
    causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: only cpu and memory resources are mutable', field: 'spec' });
  }
  return causes;
}

/** PUT or PATCH of pods/{name}/resize: the stored pod (unchanged when nothing changed; not stored on a dry run). */
export function writePodResize(
  registry: ApiRegistry,
  namespace: string,
  name: string,
  write: PodSubresourceWrite,
  options: { dryRun?: boolean } = {},
): StoredObject {
  return writePodSubresource(registry, namespace, name, write, options.dryRun ?? false, (old, incoming) => {
    if (isMirrorPod(old)) {
      throw errors.invalid('Pod', name, '', [{ reason: 'FieldValueForbidden', message: 'Forbidden: static pods cannot be resized', field: '' }]);
    }
    const oldJson = old as unknown as JsonObject;
    const next = applyDefaultsInPlace(keepResizeFields(oldJson, incoming as unknown as JsonObject) as unknown as typeof old);
    const causes = [...validateMetadata(next, registry.type('', 'pods').nameRule), ...podResizeCauses(oldJson, next as unknown as JsonObject)];
    if (causes.length > 0) throw errors.invalid('Pod', name, '', causes);
    return next;
  });
}
