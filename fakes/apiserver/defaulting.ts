import type { V1Pod } from '@kubernetes/client-node';
import { defaultPodRequests } from '../../agent/resources/api-defaults.js';
import { QuantityFieldError, QuantityParseError } from '../../agent/resources/quantity.js';
import { errors } from './status.js';
import { defaultService } from './services.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { cloneJson, isJsonObject } from './types.js';

/**
 * Server-side defaulting kube-apiserver applies on create/update (SetDefaults_* in k8s.io/kubernetes
 * pkg/apis/core/v1/defaults.go and friends), limited to the resources the mock serves. Pure: returns a
 * new object, never mutates its input.
 */
export function applyDefaults(object: KubeObject): KubeObject {
  return applyDefaultsInPlace(cloneJson(object));
}

/** applyDefaults on an object the caller owns (the REST layer's freshly decoded copies). */
export function applyDefaultsInPlace(object: KubeObject): KubeObject {
  let out = object;
  switch (out.kind) {
    case 'Pod':
      defaultPod(out);
      out = defaultResources(out);
      break;
    case 'Namespace':
      defaultNamespace(out);
      break;
    case 'Node':
      defaultNode(out);
      break;
    case 'Secret':
      if (out['type'] === undefined) out['type'] = 'Opaque';
      break;
    case 'PersistentVolume': {
      const spec = obj(out, 'spec');
      setIfAbsent(spec, 'persistentVolumeReclaimPolicy', 'Retain');
      setIfAbsent(spec, 'volumeMode', 'Filesystem');
      setIfAbsent(obj(out, 'status'), 'phase', 'Pending');
      break;
    }
    case 'PersistentVolumeClaim':
      setIfAbsent(obj(out, 'spec'), 'volumeMode', 'Filesystem');
      setIfAbsent(obj(out, 'status'), 'phase', 'Pending');
      break;
    case 'PriorityClass':
      setIfAbsent(out as JsonObject, 'preemptionPolicy', 'PreemptLowerPriority');
      break;
    case 'Service':
      defaultService(out);
      break;
  }
  return out;
}

/** The object at `key`, created empty when missing or not an object. */
function obj(parent: JsonObject, key: string): JsonObject {
  const cur = parent[key];
  if (isJsonObject(cur)) return cur;
  const fresh: JsonObject = {};
  parent[key] = fresh;
  return fresh;
}

function setIfAbsent(target: JsonObject, key: string, value: JsonValue): void {
  if (target[key] === undefined || target[key] === null || target[key] === '') target[key] = value;
}

function defaultNamespace(ns: KubeObject): void {
  setIfAbsent(obj(ns, 'spec'), 'finalizers', ['kubernetes']);
  setIfAbsent(obj(ns, 'status'), 'phase', 'Active');
  const labels = (ns.metadata.labels ??= {});
  if (ns.metadata.name) labels['kubernetes.io/metadata.name'] = ns.metadata.name;
}

function defaultNode(node: KubeObject): void {
  const status = node['status'];
  if (isJsonObject(status) && isJsonObject(status['capacity']) && status['allocatable'] === undefined) {
    status['allocatable'] = cloneJson(status['capacity']);
  }
}

/** Default pull policy from the image reference: Always for `:latest` (or no tag), else IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const withoutDigest = image.split('@')[0] ?? image;
  const hasDigest = image.includes('@');
  const lastSlash = withoutDigest.lastIndexOf('/');
  const lastColon = withoutDigest.lastIndexOf(':');
  const tag = lastColon > lastSlash ? withoutDigest.slice(lastColon + 1) : hasDigest ? '' : 'latest';
  return tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: JsonValue | undefined): void {
  if (!isJsonObject(probe)) return;
  setIfAbsent(probe, 'timeoutSeconds', 1);
  setIfAbsent(probe, 'periodSeconds', 10);
  setIfAbsent(probe, 'successThreshold', 1);
  setIfAbsent(probe, 'failureThreshold', 3);
  defaultHandler(probe);
}

function defaultHandler(handler: JsonValue | undefined): void {
  if (!isJsonObject(handler)) return;
  const httpGet = handler['httpGet'];
  if (isJsonObject(httpGet)) {
    setIfAbsent(httpGet, 'path', '/');
    setIfAbsent(httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(c: JsonObject, hostNetwork: boolean): void {
  if (typeof c['image'] === 'string') setIfAbsent(c, 'imagePullPolicy', defaultPullPolicy(c['image']));
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  obj(c, 'resources');
  const ports = c['ports'];
  if (Array.isArray(ports)) {
    for (const p of ports) {
      if (!isJsonObject(p)) continue;
      setIfAbsent(p, 'protocol', 'TCP');
      if (hostNetwork && p['hostPort'] === undefined && p['containerPort'] !== undefined) p['hostPort'] = p['containerPort'];
    }
  }
  const env = c['env'];
  if (Array.isArray(env)) {
    for (const e of env) {
      const fieldRef = isJsonObject(e) && isJsonObject(e['valueFrom']) ? e['valueFrom']['fieldRef'] : undefined;
      if (isJsonObject(fieldRef)) setIfAbsent(fieldRef, 'apiVersion', 'v1');
    }
  }
  defaultProbe(c['livenessProbe']);
  defaultProbe(c['readinessProbe']);
  defaultProbe(c['startupProbe']);
  const lifecycle = c['lifecycle'];
  if (isJsonObject(lifecycle)) {
    defaultHandler(lifecycle['postStart']);
    defaultHandler(lifecycle['preStop']);
  }
}

function defaultVolume(v: JsonObject): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v['emptyDir'] = {};
  for (const kind of ['secret', 'configMap', 'downwardAPI', 'projected'] as const) {
    const source = v[kind];
    if (isJsonObject(source)) setIfAbsent(source, 'defaultMode', 0o644);
  }
}

function defaultPod(pod: KubeObject): void {
  const spec = obj(pod, 'spec');
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'enableServiceLinks', true);
  if (spec['securityContext'] === undefined) spec['securityContext'] = {};
  // ServiceAccount admission names the default account (token projection is not modelled).
  setIfAbsent(spec, 'serviceAccountName', 'default');
  setIfAbsent(spec, 'serviceAccount', spec['serviceAccountName'] as string);
  const hostNetwork = spec['hostNetwork'] === true;
  for (const field of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    const list = spec[field];
    if (Array.isArray(list)) for (const c of list) if (isJsonObject(c)) defaultContainer(c, hostNetwork);
  }
  const volumes = spec['volumes'];
  if (Array.isArray(volumes)) for (const v of volumes) if (isJsonObject(v)) defaultVolume(v);
  addDefaultTolerations(spec);
}

/**
 * Requests defaulted from limits and quantities rounded to milli precision (the agent's
 * defaultPodRequests, shared with static-pod handling). A quantity that does not parse is a decode
 * error for kube-apiserver: 400, naming the field.
 */
function defaultResources(pod: KubeObject): KubeObject {
  const spec = obj(pod, 'spec');
  for (const field of ['containers', 'initContainers'] as const) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    const bad = !Array.isArray(list)
      ? `cannot unmarshal ${typeof list} into Go struct field PodSpec.spec.${field} of type []v1.Container`
      : list.some((c) => !isJsonObject(c) || (c['resources'] !== undefined && c['resources'] !== null && !isJsonObject(c['resources'])))
        ? `cannot unmarshal a non-object into Go struct field PodSpec.spec.${field} of type v1.Container`
        : undefined;
    if (bad) throw errors.badRequest(`Pod in version "v1" cannot be handled as a Pod: json: ${bad}`);
  }
  try {
    return defaultPodRequests(pod as unknown as V1Pod) as unknown as KubeObject;
  } catch (err) {
    if (err instanceof QuantityFieldError || err instanceof QuantityParseError) {
      throw errors.badRequest(`Pod in version "v1" cannot be handled as a Pod: ${err.message}`, [
        { reason: 'FieldValueInvalid', message: err.message, field: err instanceof QuantityFieldError ? err.field : 'spec' },
      ]);
    }
    throw err;
  }
}

/** DefaultTolerationSeconds admission: tolerate not-ready/unreachable NoExecute taints for 300 s. */
function addDefaultTolerations(spec: JsonObject): void {
  const tolerations = Array.isArray(spec['tolerations']) ? spec['tolerations'] : [];
  const tolerates = (key: string): boolean =>
    tolerations.some(
      (t) =>
        isJsonObject(t) &&
        (t['key'] === key || (t['key'] === undefined && t['operator'] === 'Exists')) &&
        (t['effect'] === undefined || t['effect'] === '' || t['effect'] === 'NoExecute'),
    );
  const added: JsonObject[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  if (added.length > 0) spec['tolerations'] = [...tolerations, ...added];
}
