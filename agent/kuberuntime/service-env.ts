import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { podNamespace } from './pod-helpers.js';

/**
 * Service-link environment (upstream kubelet_pods.go getServiceEnvVarMap, pkg/kubelet/envvars): every
 * container learns the cluster IP and ports of the services of its namespace (when
 * spec.enableServiceLinks, the default) and always of default/kubernetes, as <SVC>_SERVICE_HOST,
 * <SVC>_SERVICE_PORT[_<PORT NAME>] and the Docker-link <SVC>_PORT* variables.
 */

/** The services whose variables every pod gets, whatever its namespace and enableServiceLinks. */
const MASTER_SERVICES = new Set(['kubernetes']);

/** A service has variables only with a cluster IP (not headless, not yet unallocated). */
export function isServiceIPSet(service: V1Service): boolean {
  const ip = service.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/** Upper case with '-' as '_' (a name starting with a digit or holding a dot stays as it is, as upstream). */
function envName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables of these services, each service's in upstream's order (envvars.FromServices). */
export function serviceEnvVars(services: readonly V1Service[]): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (const svc of services) {
    const ports = svc.spec?.ports ?? [];
    // Validation gives every service with a cluster IP a port; one without has nothing to link to.
    if (!isServiceIPSet(svc) || ports.length === 0) continue;
    const ip = svc.spec!.clusterIP!;
    const prefix = envName(svc.metadata?.name ?? '');
    out.push({ key: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ key: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) if (p.name) out.push({ key: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ key: `${prefix}_PORT`, value: url });
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push({ key: portPrefix, value: url });
      out.push({ key: `${portPrefix}_PROTO`, value: protocol.toLowerCase() });
      out.push({ key: `${portPrefix}_PORT`, value: String(p.port) });
      out.push({ key: `${portPrefix}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The service variables a pod's containers see: default/kubernetes always, and with enableServiceLinks
 * (default true) every service of the pod's namespace. Upstream builds a Go map (no order); here the
 * services go by name so a container's environment is the same on every start.
 */
export function serviceEnvForPod(pod: V1Pod, services: readonly V1Service[]): Map<string, string> {
  const ns = podNamespace(pod);
  const links = pod.spec?.enableServiceLinks ?? true;
  const chosen = new Map<string, V1Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    const svcNs = svc.metadata?.namespace ?? '';
    if (svcNs === 'default' && MASTER_SERVICES.has(name)) {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svcNs === ns && links) {
      chosen.set(name, svc);
    }
  }
  const ordered = [...chosen.keys()].sort().map((name) => chosen.get(name)!);
  return new Map(serviceEnvVars(ordered).map((e) => [e.key, e.value]));
}
