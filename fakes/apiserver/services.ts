import { invalid, required } from './validation.js';
import type { StatusCause } from './status.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

/**
 * Services as the mock serves them: what a kubelet reads for the service-link environment. Defaults
 * (SetDefaults_Service), the checks that keep a service usable for links (ports of ClusterIP services),
 * cluster IPs allocated from the default service CIDR 10.96.0.0/12, and the `default/kubernetes` service
 * every cluster has at 10.96.0.1:443.
 */

export const SERVICE_CIDR_BASE = [10, 96, 0, 0] as const;
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

export function kubernetesService(): JsonObject {
  return {
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  };
}

export function defaultService(svc: KubeObject): void {
  const spec = isJsonObject(svc['spec']) ? svc['spec'] : (svc['spec'] = {});
  if (!spec['type']) spec['type'] = 'ClusterIP';
  if (!spec['sessionAffinity']) spec['sessionAffinity'] = 'None';
  if (spec['type'] !== 'ExternalName' && !spec['internalTrafficPolicy']) spec['internalTrafficPolicy'] = 'Cluster';
  const ports = spec['ports'];
  if (Array.isArray(ports)) {
    for (const p of ports) {
      if (!isJsonObject(p)) continue;
      if (!p['protocol']) p['protocol'] = 'TCP';
      if (p['targetPort'] === undefined || p['targetPort'] === 0 || p['targetPort'] === '') p['targetPort'] = p['port'] as JsonValue;
    }
  }
  if (!isJsonObject(svc['status'])) svc['status'] = { loadBalancer: {} };
}

export function validateService(svc: KubeObject): StatusCause[] {
  const spec = svc['spec'];
  if (!isJsonObject(spec)) return [required('spec')];
  const causes: StatusCause[] = [];
  const type = spec['type'];
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(String(type))) {
    causes.push(invalid('spec.type', type as JsonValue, 'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'));
  }
  const headless = spec['clusterIP'] === 'None';
  const ports = spec['ports'];
  if (ports !== undefined && !Array.isArray(ports)) return [...causes, invalid('spec.ports', ports, 'must be a list')];
  const list = (ports ?? []) as JsonValue[];
  if (list.length === 0 && !headless && type !== 'ExternalName') causes.push(required('spec.ports'));
  const names = new Set<string>();
  list.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    if (!isJsonObject(p)) {
      causes.push(invalid(at, p, 'must be an object'));
      return;
    }
    const port = p['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      causes.push(invalid(`${at}.port`, port as JsonValue, 'must be between 1 and 65535, inclusive'));
    }
    if (!['TCP', 'UDP', 'SCTP'].includes(String(p['protocol']))) {
      causes.push(invalid(`${at}.protocol`, p['protocol'] as JsonValue, 'supported values: "SCTP", "TCP", "UDP"'));
    }
    const name = typeof p['name'] === 'string' ? p['name'] : '';
    if (list.length > 1 && name === '') causes.push(required(`${at}.name`));
    if (name !== '' && names.has(name)) causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: "${name}"`, field: `${at}.name` });
    names.add(name);
  });
  const ip = spec['clusterIP'];
  if (ip !== undefined && ip !== '' && ip !== 'None' && (typeof ip !== 'string' || !isServiceIp(ip))) {
    causes.push(invalid('spec.clusterIP', ip as JsonValue, 'must be a valid IP address within the service CIDR 10.96.0.0/12'));
  }
  return causes;
}

function isServiceIp(ip: string): boolean {
  const parts = ip.split('.').map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return parts.length === 4 && parts.every((p) => p >= 0 && p <= 255) && parts[0] === 10 && (parts[1]! & 0xf0) === 96;
}

/** The lowest free address of 10.96.0.0/12 after the network address and the kubernetes service. */
export function nextClusterIP(used: ReadonlySet<string>): string {
  const base = (10 << 24) | (96 << 16);
  for (let offset = 2; offset < 1 << 20; offset++) {
    const n = base + offset;
    const ip = [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    if (!used.has(ip)) return ip;
  }
  throw new Error('the service CIDR 10.96.0.0/12 is exhausted');
}

/** Fills spec.clusterIP(s) and ipFamilies of a new service (none for ExternalName, 'None' stays). */
export function allocateClusterIP(svc: KubeObject, used: ReadonlySet<string>): void {
  const spec = svc['spec'] as JsonObject;
  if (spec['type'] === 'ExternalName') return;
  const ip = typeof spec['clusterIP'] === 'string' && spec['clusterIP'] !== '' ? spec['clusterIP'] : nextClusterIP(used);
  spec['clusterIP'] = ip;
  spec['clusterIPs'] = [ip];
  if (ip !== 'None') {
    spec['ipFamilies'] = ['IPv4'];
    spec['ipFamilyPolicy'] = 'SingleStack';
  }
}
