import type { V1Pod } from '@kubernetes/client-node';
import { podName, podNamespace } from './pod-helpers.js';

/** Pod hostname and domain as the kubelet derives them (upstream GeneratePodHostNameAndDomain). */

export const MAX_HOSTNAME_LENGTH = 63;

function truncateHostname(name: string): string {
  if (name.length <= MAX_HOSTNAME_LENGTH) return name;
  // Truncation must not leave a trailing '-' or '.', which are invalid at the end of a label.
  return name.slice(0, MAX_HOSTNAME_LENGTH).replace(/[-.]+$/, '');
}

export function podHostnameAndDomain(pod: V1Pod, clusterDomain: string): { hostname: string; domain: string } {
  const hostname = truncateHostname(pod.spec?.hostname || podName(pod));
  const sub = pod.spec?.subdomain;
  const domain = sub ? `${sub}.${podNamespace(pod)}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The kernel hostname: the FQDN when setHostnameAsFQDN is true (at most 64 characters). */
export function kernelHostname(pod: V1Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  if (pod.spec?.setHostnameAsFQDN === true && domain !== '') {
    const fqdn = `${hostname}.${domain}`;
    if (fqdn.length > 64) {
      throw new Error(`spec.setHostnameAsFQDN: the FQDN "${fqdn}" is longer than 64 characters`);
    }
    return fqdn;
  }
  return hostname;
}
