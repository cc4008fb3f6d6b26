import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../resources/quantity.js';
import { invalidDns1123Label } from './dns1123.js';

/**
 * Checks the kubelet cannot leave to the API server (static pods never pass through it, and a mock or
 * old server may not validate): container names, quantities, volume sources, volume mounts, hostname and
 * subdomain. Returns the first problem as `field: message`, or undefined.
 */

const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'configMap', 'secret', 'csi', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'ephemeral', 'nfs', 'image',
] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkResources(c: V1Container, field: string): string | undefined {
  for (const kind of ['requests', 'limits'] as const) {
    for (const [name, value] of Object.entries(c.resources?.[kind] ?? {})) {
      try {
        parseQuantity(String(value));
      } catch (e) {
        return `${field}.resources.${kind}[${name}]: ${(e as Error).message}`;
      }
    }
  }
  return undefined;
}

export function validatePodForKubelet(pod: V1Pod): string | undefined {
  const spec = pod.spec;
  if (!spec) return 'spec: Required value';
  if (!spec.containers || spec.containers.length === 0) return 'spec.containers: Required value';
  const names = new Set<string>();
  const groups: Array<[string, V1Container[]]> = [
    ['spec.initContainers', spec.initContainers ?? []],
    ['spec.containers', spec.containers],
  ];
  const volumeNames = new Set<string>();
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const field = `spec.volumes[${i}]`;
    if (!v.name || !DNS_LABEL.test(v.name)) return `${field}.name: Invalid value: "${v.name ?? ''}"`;
    if (volumeNames.has(v.name)) return `${field}.name: Duplicate value: "${v.name}"`;
    volumeNames.add(v.name);
    const sources = Object.keys(v).filter((k) => k !== 'name');
    const known = sources.filter((k) => (VOLUME_SOURCES as readonly string[]).includes(k));
    const unknown = sources.filter((k) => !(VOLUME_SOURCES as readonly string[]).includes(k));
    if (unknown.length > 0) return `${field}: unsupported volume type "${unknown[0]}"`;
    if (known.length === 0) return `${field}: must specify a volume type`;
    if (known.length > 1) return `${field}: may not specify more than 1 volume type`;
  }
  for (const [group, list] of groups) {
    for (const [i, c] of list.entries()) {
      const field = `${group}[${i}]`;
      if (!c.name || !DNS_LABEL.test(c.name)) return `${field}.name: Invalid value: "${c.name ?? ''}"`;
      if (names.has(c.name)) return `${field}.name: Duplicate value: "${c.name}"`;
      names.add(c.name);
      if (!c.image) return `${field}.image: Required value`;
      const bad = checkResources(c, field);
      if (bad) return bad;
      for (const [j, m] of (c.volumeMounts ?? []).entries()) {
        if (!volumeNames.has(m.name)) return `${field}.volumeMounts[${j}].name: Not found: "${m.name}"`;
      }
    }
  }
  // Upstream ValidatePodSpec: both, when set, are DNS-1123 labels (they become the pod's hostname and DNS domain).
  for (const key of ['hostname', 'subdomain'] as const) {
    const value: unknown = spec[key];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') return `spec.${key}: Invalid value: ${JSON.stringify(value)}: must be a string`;
    const bad = invalidDns1123Label(value, `spec.${key}`);
    if (bad) return bad;
  }
  if (spec.overhead) {
    for (const [name, value] of Object.entries(spec.overhead)) {
      try {
        parseQuantity(String(value));
      } catch (e) {
        return `spec.overhead[${name}]: ${(e as Error).message}`;
      }
    }
  }
  return undefined;
}
