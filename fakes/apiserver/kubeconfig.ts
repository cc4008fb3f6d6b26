import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

/** A kubeconfig shaped like a real cluster's: one cluster, one user (bearer token or none), one context. */
export interface KubeconfigInput {
  server: string;
  /** PEM of the CA that signed the server certificate (https only). */
  caPem?: string;
  token?: string;
  namespace?: string;
  name?: string;
}

export function renderKubeconfig(input: KubeconfigInput): string {
  const name = input.name ?? 'kubelet-harness';
  const cluster: Record<string, string | boolean> = { server: input.server };
  if (input.caPem) cluster['certificate-authority-data'] = Buffer.from(input.caPem).toString('base64');
  // client-node 2 refuses plain http unless the cluster says TLS verification is off.
  else if (input.server.startsWith('http:')) cluster['insecure-skip-tls-verify'] = true;
  const user: Record<string, string> = {};
  if (input.token) user['token'] = input.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster }],
    users: [{ name, user }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: input.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** Writes the kubeconfig readable by its owner only (it may hold a token). */
export async function writeKubeconfig(path: string, input: KubeconfigInput): Promise<void> {
  await writeFile(path, renderKubeconfig(input), { mode: 0o600 });
}
