import { parseQuantity, type Quantity } from '../../agent/resources/quantity.js';
import type { NameRule } from './resources.js';
import type { StatusCause } from './status.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { cloneJson, isJsonObject } from './types.js';

/**
 * Field validation with kube-apiserver's cause shapes (reason FieldValueInvalid / FieldValueRequired /
 * FieldValueDuplicate / FieldValueNotSupported, field path, message). Pure; returns the causes found.
 */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function quantityOf(value: JsonValue | undefined): Quantity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantity(String(value));
  } catch {
    return undefined;
  }
}

export function invalid(field: string, value: JsonValue | undefined, detail: string): StatusCause {
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value ?? null)}: ${detail}`, field };
}

export function required(field: string, detail = ''): StatusCause {
  return { reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field };
}

function notSupported(field: string, value: JsonValue | undefined, allowed: string[]): StatusCause {
  return {
    reason: 'FieldValueNotSupported',
    message: `Unsupported value: ${JSON.stringify(value ?? null)}: supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`,
    field,
  };
}

function duplicate(field: string, value: JsonValue): StatusCause {
  return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(value)}`, field };
}

function forbidden(field: string, detail: string): StatusCause {
  return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
}

export function validateName(name: string, rule: NameRule, field = 'metadata.name'): StatusCause[] {
  switch (rule) {
    case 'dns1123-label':
      if (name.length > 63 || !DNS1123_LABEL.test(name)) {
        return [invalid(field, name, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")];
      }
      return [];
    case 'dns1123-subdomain':
      if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
        return [invalid(field, name, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")];
      }
      return [];
    case 'path-segment':
      if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
        return [invalid(field, name, 'may not contain \'/\' or \'%\' and may not be \'.\' or \'..\'')];
      }
      return [];
  }
}

export function validateMetadata(object: KubeObject, rule: NameRule): StatusCause[] {
  const causes: StatusCause[] = [];
  const meta = object.metadata;
  if (!meta.name) causes.push(required('metadata.name', 'name or generateName is required'));
  else causes.push(...validateName(meta.name, rule));
  for (const [field, map] of [['metadata.labels', meta.labels], ['metadata.annotations', meta.annotations]] as const) {
    if (map === undefined) continue;
    if (!isJsonObject(map)) {
      causes.push(invalid(field, map as JsonValue, 'must be a map of string keys to string values'));
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      if (k.length > 316 || !QUALIFIED_NAME.test(k)) {
        causes.push(invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
      }
      if (typeof v !== 'string') causes.push(invalid(`${field}[${k}]`, v as JsonValue, 'must be a string'));
      else if (field === 'metadata.labels' && (v.length > 63 || !LABEL_VALUE.test(v))) {
        causes.push(invalid(`${field}`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
      }
    }
  }
  if (meta.finalizers !== undefined && (!Array.isArray(meta.finalizers) || meta.finalizers.some((f) => typeof f !== 'string'))) {
    causes.push(invalid('metadata.finalizers', meta.finalizers as JsonValue, 'must be a list of strings'));
  }
  return causes;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validateResources(resources: JsonValue | undefined, path: string, causes: StatusCause[]): void {
  if (resources === undefined) return;
  if (!isJsonObject(resources)) {
    causes.push(invalid(path, resources, 'must be an object'));
    return;
  }
  const lists: Array<[string, JsonValue | undefined]> = [['requests', resources['requests']], ['limits', resources['limits']]];
  for (const [which, list] of lists) {
    if (list === undefined) continue;
    if (!isJsonObject(list)) {
      causes.push(invalid(`${path}.${which}`, list, 'must be a map of resource names to quantities'));
      continue;
    }
    for (const [name, q] of Object.entries(list)) {
      const quantity = quantityOf(q);
      if (!quantity) {
        causes.push(invalid(`${path}.${which}[${name}]`, q, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
      } else if (quantity.sign() < 0) {
        causes.push(invalid(`${path}.${which}[${name}]`, q, 'must be greater than or equal to 0'));
      }
    }
  }
  const requests = resources['requests'];
  const limits = resources['limits'];
  if (isJsonObject(requests) && isJsonObject(limits)) {
    for (const [name, req] of Object.entries(requests)) {
      const lim = limits[name];
      const reqQ = quantityOf(req);
      const limQ = quantityOf(lim);
      if (reqQ && limQ && reqQ.cmp(limQ) > 0) {
        causes.push(invalid(`${path}.requests`, req, `must be less than or equal to ${name} limit of ${String(lim)}`));
      }
    }
  }
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];

function validateProbe(probe: JsonValue | undefined, path: string, kind: 'liveness' | 'readiness' | 'startup', causes: StatusCause[]): void {
  if (probe === undefined) return;
  if (!isJsonObject(probe)) {
    causes.push(invalid(path, probe, 'must be an object'));
    return;
  }
  const handlers = PROBE_HANDLERS.filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) causes.push(required(path, 'must specify a handler type'));
  if (handlers.length > 1) causes.push(forbidden(`${path}.${handlers[1]}`, 'may not specify more than 1 handler type'));
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const v = probe[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      causes.push(invalid(`${path}.${field}`, v, 'must be greater than or equal to 0'));
    }
  }
  if (kind !== 'readiness' && probe['successThreshold'] !== undefined && probe['successThreshold'] !== 1) {
    causes.push(invalid(`${path}.successThreshold`, probe['successThreshold'], 'must be 1'));
  }
  const tgps = probe['terminationGracePeriodSeconds'];
  if (tgps !== undefined) {
    if (kind === 'readiness') causes.push(invalid(`${path}.terminationGracePeriodSeconds`, tgps, 'must not be set for readinessProbes'));
    else if (typeof tgps !== 'number' || tgps <= 0) causes.push(invalid(`${path}.terminationGracePeriodSeconds`, tgps, 'must be greater than 0'));
  }
}

/**
 * What every kind of container (regular, init, ephemeral) is checked for first: an object whose name is
 * a DNS-1123 label unique among `names` (every container name of the pod). Returns the object, or null
 * when it is not one.
 */
export function checkContainerIdentity(c: JsonValue, path: string, causes: StatusCause[], names: Set<string>): JsonObject | null {
  if (!isJsonObject(c)) {
    causes.push(invalid(path, c, 'must be an object'));
    return null;
  }
  const name = c['name'];
  if (typeof name !== 'string' || name === '') causes.push(required(`${path}.name`));
  else {
    causes.push(...validateName(name, 'dns1123-label', `${path}.name`));
    if (names.has(name)) causes.push(duplicate(`${path}.name`, name));
    names.add(name);
  }
  return c;
}

function validateContainer(value: JsonValue, path: string, init: boolean, causes: StatusCause[], names: Set<string>): void {
  const c = checkContainerIdentity(value, path, causes, names);
  if (!c) return;
  const image = c['image'];
  if (typeof image !== 'string' || image.trim() === '') causes.push(required(`${path}.image`));
  const pull = c['imagePullPolicy'];
  if (pull !== undefined && (typeof pull !== 'string' || !PULL_POLICIES.includes(pull))) {
    causes.push(notSupported(`${path}.imagePullPolicy`, pull, PULL_POLICIES));
  }
  validateResources(c['resources'], `${path}.resources`, causes);
  const restartable = init && c['restartPolicy'] === 'Always';
  if (init && !restartable) {
    for (const p of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[p] !== undefined) causes.push(forbidden(`${path}.${p}`, 'may not be set for init containers without restartPolicy=Always'));
    }
  } else {
    validateProbe(c['livenessProbe'], `${path}.livenessProbe`, 'liveness', causes);
    validateProbe(c['readinessProbe'], `${path}.readinessProbe`, 'readiness', causes);
    validateProbe(c['startupProbe'], `${path}.startupProbe`, 'startup', causes);
  }
}

export function validatePodSpec(spec: JsonValue | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!isJsonObject(spec)) return [required('spec')];
  const containers = spec['containers'];
  if (!Array.isArray(containers) || containers.length === 0) causes.push(required('spec.containers'));
  const names = new Set<string>();
  const inits = spec['initContainers'];
  if (inits !== undefined && !Array.isArray(inits)) causes.push(invalid('spec.initContainers', inits, 'must be a list'));
  if (Array.isArray(inits)) inits.forEach((c, i) => validateContainer(c, `spec.initContainers[${i}]`, true, causes, names));
  if (Array.isArray(containers)) containers.forEach((c, i) => validateContainer(c, `spec.containers[${i}]`, false, causes, names));
  const rp = spec['restartPolicy'];
  if (rp !== undefined && (typeof rp !== 'string' || !RESTART_POLICIES.includes(rp))) {
    causes.push(notSupported('spec.restartPolicy', rp, RESTART_POLICIES));
  }
  const dns = spec['dnsPolicy'];
  if (dns !== undefined && (typeof dns !== 'string' || !DNS_POLICIES.includes(dns))) causes.push(notSupported('spec.dnsPolicy', dns, DNS_POLICIES));
  const grace = spec['terminationGracePeriodSeconds'];
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) {
    causes.push(invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0'));
  }
  const ads = spec['activeDeadlineSeconds'];
  if (ads !== undefined && (typeof ads !== 'number' || !Number.isInteger(ads) || ads <= 0)) {
    causes.push(invalid('spec.activeDeadlineSeconds', ads, 'must be between 1 and 2147483647, inclusive'));
  }
  const nodeName = spec['nodeName'];
  if (nodeName !== undefined && nodeName !== '' && (typeof nodeName !== 'string' || !DNS1123_SUBDOMAIN.test(nodeName))) {
    causes.push(invalid('spec.nodeName', nodeName, 'a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters'));
  }
  const volumes = spec['volumes'];
  if (Array.isArray(volumes)) {
    const seen = new Set<string>();
    volumes.forEach((v, i) => {
      const n = isJsonObject(v) ? v['name'] : undefined;
      if (typeof n !== 'string' || n === '') causes.push(required(`spec.volumes[${i}].name`));
      else if (seen.has(n)) causes.push(duplicate(`spec.volumes[${i}].name`, n));
      else seen.add(n);
    });
  }
  return causes;
}

/** Fields of a pod's spec that may change after creation (upstream ValidatePodUpdate). */
export function podSpecUpdateCauses(oldSpec: JsonObject, newSpec: JsonObject, equal: (a: JsonValue, b: JsonValue) => boolean): StatusCause[] {
  const normalize = (spec: JsonObject): JsonObject => {
    const copy = cloneJson(spec);
    for (const field of ['containers', 'initContainers'] as const) {
      const list = copy[field];
      if (Array.isArray(list)) for (const c of list) if (isJsonObject(c)) delete c['image'];
    }
    delete copy['activeDeadlineSeconds'];
    delete copy['tolerations'];
    delete copy['terminationGracePeriodSeconds'];
    delete copy['schedulingGates'];
    return copy;
  };
  if (equal(normalize(oldSpec), normalize(newSpec))) return [];
  return [forbidden('spec', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)')];
}

export function validateKindSpecific(object: KubeObject): StatusCause[] {
  switch (object.kind) {
    case 'Pod':
      return validatePodSpec(object['spec']);
    case 'Lease': {
      const spec = object['spec'];
      if (!isJsonObject(spec)) return [];
      const d = spec['leaseDurationSeconds'];
      if (d !== undefined && (typeof d !== 'number' || d <= 0)) return [invalid('spec.leaseDurationSeconds', d, 'must be greater than 0')];
      return [];
    }
    case 'PriorityClass': {
      const value = object['value'];
      if (typeof value !== 'number' || !Number.isInteger(value)) return [required('value')];
      return [];
    }
    case 'ConfigMap':
    case 'Secret': {
      const causes: StatusCause[] = [];
      for (const field of ['data', 'stringData', 'binaryData']) {
        const data = object[field];
        if (data === undefined) continue;
        if (!isJsonObject(data)) {
          causes.push(invalid(field, data, 'must be a map of keys to strings'));
          continue;
        }
        for (const [k, v] of Object.entries(data)) {
          if (!/^[-._a-zA-Z0-9]+$/.test(k)) causes.push(invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"));
          if (typeof v !== 'string') causes.push(invalid(`${field}[${k}]`, v, 'must be a string'));
        }
      }
      return causes;
    }
    case 'RuntimeClass': {
      const handler = object['handler'];
      if (typeof handler !== 'string' || handler === '') return [required('handler')];
      return validateName(handler, 'dns1123-label', 'handler');
    }
    case 'Event': {
      if (!isJsonObject(object['involvedObject'])) return [required('involvedObject')];
      return [];
    }
    default:
      return [];
  }
}
