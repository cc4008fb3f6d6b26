import { ApiError, errors } from './status.js';
import type { JsonObject, JsonValue } from './types.js';
import { cloneJson, isJsonObject } from './types.js';

/**
 * The three patch formats kube-apiserver accepts for built-in types: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902) and strategic merge patch (list merge by key for the fields tagged so in
 * k8s.io/api, plus the $patch / $setElementOrder / $deleteFromPrimitiveList / $retainKeys directives).
 * Pure functions over JSON trees; inputs are never mutated.
 */
export type PatchType = 'merge' | 'strategic' | 'json';

export function patchTypeOf(contentType: string): PatchType | undefined {
  const base = contentType.split(';')[0]?.trim().toLowerCase();
  if (base === 'application/merge-patch+json') return 'merge';
  if (base === 'application/strategic-merge-patch+json') return 'strategic';
  if (base === 'application/json-patch+json') return 'json';
  return undefined;
}

export function applyPatch(type: PatchType, target: JsonObject, patch: JsonValue): JsonObject {
  switch (type) {
    case 'merge': {
      if (!isJsonObject(patch)) throw errors.badRequest('json: cannot unmarshal merge patch: the patch is not a JSON object');
      return mergePatch(target, patch) as JsonObject;
    }
    case 'strategic': {
      if (!isJsonObject(patch)) throw errors.badRequest('unable to find api field in struct for the strategic merge patch: the patch is not a JSON object');
      return strategicMerge(target, patch, '');
    }
    case 'json':
      return jsonPatch(target, patch);
  }
}

// ---------------------------------------------------------------- RFC 7386

export function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return patch;
  const out: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (value !== undefined) out[key] = mergePatch(out[key], value);
  }
  return out;
}

// ---------------------------------------------------------------- strategic merge patch

/** Lists merged by key (patchStrategy "merge" + patchMergeKey in k8s.io/api); the rest are replaced. */
const MERGE_KEYS: Record<string, string> = {
  'metadata.ownerReferences': 'uid',
  'spec.containers': 'name',
  'spec.initContainers': 'name',
  'spec.ephemeralContainers': 'name',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'spec.hostAliases': 'ip',
  'spec.topologySpreadConstraints': 'topologyKey',
  'spec.resourceClaims': 'name',
  'status.conditions': 'type',
  'status.addresses': 'type',
  'status.podIPs': 'ip',
  'status.hostIPs': 'ip',
  'status.resourceClaimStatuses': 'name',
};

/** Merge keys of container fields, wherever a container list sits. */
const CONTAINER_MERGE_KEYS: Record<string, string> = {
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
};

/** Lists of primitives merged as sets. */
const PRIMITIVE_SETS = new Set(['metadata.finalizers']);

function mergeKeyFor(path: string): string | undefined {
  const direct = MERGE_KEYS[path];
  if (direct) return direct;
  const m = /^spec\.(containers|initContainers|ephemeralContainers)\.(\w+)$/.exec(path);
  return m ? CONTAINER_MERGE_KEYS[m[2] as string] : undefined;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function strategicMerge(original: JsonObject, patch: JsonObject, path: string): JsonObject {
  if (patch['$patch'] === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  if (patch['$patch'] === 'delete') return {};
  const out: JsonObject = { ...original };
  const retainKeys = patch['$retainKeys'];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/') || key.startsWith('$deleteFromPrimitiveList/')) continue;
    const fieldPath = join(path, key);
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      out[key] = mergeList(out[key], value, fieldPath, patch[`$deleteFromPrimitiveList/${key}`]);
    } else if (isJsonObject(value)) {
      const current = out[key];
      out[key] = strategicMerge(isJsonObject(current) ? current : {}, value, fieldPath);
    } else {
      out[key] = value;
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$deleteFromPrimitiveList/') && Array.isArray(value)) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      if (!(field in patch)) {
        const current = out[field];
        if (Array.isArray(current)) out[field] = current.filter((v) => !value.some((d) => jsonEqual(d, v)));
      }
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/') || !Array.isArray(order)) continue;
    const field = key.slice('$setElementOrder/'.length);
    const current = out[field];
    if (Array.isArray(current)) out[field] = applyElementOrder(current, order, mergeKeyFor(join(path, field)));
  }
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(out)) {
      if (!retainKeys.includes(key) && !(key in patch)) delete out[key];
    }
  }
  return out;
}

function mergeList(current: JsonValue | undefined, patch: JsonValue[], path: string, deletions: JsonValue | undefined): JsonValue[] {
  const base = Array.isArray(current) ? current : [];
  if (PRIMITIVE_SETS.has(path)) {
    const out = [...base];
    for (const v of patch) if (!out.some((o) => jsonEqual(o, v))) out.push(v);
    return Array.isArray(deletions) ? out.filter((v) => !deletions.some((d) => jsonEqual(d, v))) : out;
  }
  const mergeKey = mergeKeyFor(path);
  if (!mergeKey) {
    // Atomic list: the patch's list replaces it (directives inside items are stripped).
    return patch.filter((item) => !(isJsonObject(item) && item['$patch'] === 'delete')).map(stripDirectives);
  }
  if (patch.length === 1 && isJsonObject(patch[0]) && patch[0]['$patch'] === 'replace') return [];
  const out: JsonValue[] = [...base];
  for (const item of patch) {
    if (!isJsonObject(item)) throw errors.badRequest(`strategic merge patch: ${path} expects objects with key "${mergeKey}"`);
    const keyValue = item[mergeKey];
    if (keyValue === undefined) {
      throw errors.badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    }
    const index = out.findIndex((o) => isJsonObject(o) && jsonEqual(o[mergeKey], keyValue));
    if (item['$patch'] === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMerge(out[index] as JsonObject, item, path);
    else out.push(stripDirectives(item));
  }
  return out;
}

function applyElementOrder(list: JsonValue[], order: JsonValue[], mergeKey: string | undefined): JsonValue[] {
  const keyOf = (v: JsonValue): JsonValue | undefined => (mergeKey && isJsonObject(v) ? v[mergeKey] : v);
  const ordered: JsonValue[] = [];
  const rest = [...list];
  for (const wanted of order) {
    const wantedKey = mergeKey && isJsonObject(wanted) ? wanted[mergeKey] : wanted;
    const i = rest.findIndex((v) => jsonEqual(keyOf(v), wantedKey));
    if (i >= 0) ordered.push(...rest.splice(i, 1));
  }
  return [...ordered, ...rest];
}

function stripDirectives(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || k.startsWith('$')) continue;
    out[k] = stripDirectives(v);
  }
  return out;
}

export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------- RFC 6902

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: JsonValue;
}

function decodeOperations(patch: JsonValue): Operation[] {
  if (!Array.isArray(patch)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return patch.map((raw, i) => {
    if (!isJsonObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw errors.badRequest(`json patch operation ${i} must be an object with string "op" and "path"`);
    }
    const op: Operation = { op: raw['op'], path: raw['path'] };
    if (typeof raw['from'] === 'string') op.from = raw['from'];
    if ('value' in raw && raw['value'] !== undefined) op.value = raw['value'];
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op)) {
      throw errors.badRequest(`Unexpected kind: ${op.op}`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in raw)) {
      throw errors.badRequest(`json patch operation ${i} (${op.op}) is missing "value"`);
    }
    if ((op.op === 'move' || op.op === 'copy') && op.from === undefined) {
      throw errors.badRequest(`json patch operation ${i} (${op.op}) is missing "from"`);
    }
    return op;
  });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw unprocessable(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function unprocessable(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

export function jsonPatch(target: JsonObject, patch: JsonValue): JsonObject {
  const ops = decodeOperations(patch);
  let doc: JsonValue = cloneJson(target);
  for (const op of ops) {
    switch (op.op) {
      case 'add':
        doc = addAt(doc, parsePointer(op.path), cloneJson(op.value as JsonValue), op.path);
        break;
      case 'remove':
        doc = removeAt(doc, parsePointer(op.path), op.path).doc;
        break;
      case 'replace': {
        const segments = parsePointer(op.path);
        doc = removeAt(doc, segments, op.path).doc;
        doc = addAt(doc, segments, cloneJson(op.value as JsonValue), op.path);
        break;
      }
      case 'move': {
        const removed = removeAt(doc, parsePointer(op.from as string), op.from as string);
        doc = addAt(removed.doc, parsePointer(op.path), removed.value, op.path);
        break;
      }
      case 'copy':
        doc = addAt(doc, parsePointer(op.path), cloneJson(getAt(doc, parsePointer(op.from as string), op.from as string)), op.path);
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, parsePointer(op.path), op.path), op.value)) {
          throw unprocessable(`testing value ${op.path} failed: test failed`);
        }
        break;
    }
  }
  if (!isJsonObject(doc)) throw unprocessable('json patch result is not an object');
  return doc;
}

function getAt(doc: JsonValue, segments: string[], pointer: string): JsonValue {
  let cur: JsonValue = doc;
  for (const s of segments) {
    if (Array.isArray(cur)) {
      const i = Number(s);
      if (!/^\d+$/.test(s) || i >= cur.length) throw unprocessable(`doc is missing path: "${pointer}": missing value`);
      cur = cur[i] as JsonValue;
    } else if (isJsonObject(cur) && cur[s] !== undefined) {
      cur = cur[s] as JsonValue;
    } else {
      throw unprocessable(`doc is missing path: "${pointer}": missing value`);
    }
  }
  return cur;
}

function addAt(doc: JsonValue, segments: string[], value: JsonValue, pointer: string): JsonValue {
  if (segments.length === 0) return value;
  const parent = getAt(doc, segments.slice(0, -1), pointer);
  const last = segments[segments.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!/^(\d+|-)$/.test(last) || i > parent.length) throw unprocessable(`add operation does not apply: doc is missing path: "${pointer}"`);
    parent.splice(i, 0, value);
  } else if (isJsonObject(parent)) {
    parent[last] = value;
  } else {
    throw unprocessable(`add operation does not apply: doc is missing path: "${pointer}"`);
  }
  return doc;
}

function removeAt(doc: JsonValue, segments: string[], pointer: string): { doc: JsonValue; value: JsonValue } {
  if (segments.length === 0) throw unprocessable('cannot remove the document root');
  const parent = getAt(doc, segments.slice(0, -1), pointer);
  const last = segments[segments.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!/^\d+$/.test(last) || i >= parent.length) throw unprocessable(`remove operation does not apply: doc is missing path: "${pointer}"`);
    const [value] = parent.splice(i, 1);
    return { doc, value: value as JsonValue };
  }
  if (isJsonObject(parent) && parent[last] !== undefined) {
    const value = parent[last] as JsonValue;
    delete parent[last];
    return { doc, value };
  }
  throw unprocessable(`remove operation does not apply: doc is missing path: "${pointer}": missing value`);
}
