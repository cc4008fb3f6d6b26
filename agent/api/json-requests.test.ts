import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { ApiRequestError, JsonApiWriter } from './json-requests.js';
import { httpCode, kubeClientsFromString } from './kube-client.js';

const servers: MockApiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serverWithPod(options: Parameters<typeof startMockApiServer>[0] = {}): Promise<{ api: MockApiServer; writer: JsonApiWriter }> {
  const api = await startMockApiServer(options);
  servers.push(api);
  const clients = kubeClientsFromString(api.kubeconfig());
  await clients.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
  return { api, writer: new JsonApiWriter(clients.config) };
}

describe('JsonApiWriter', () => {
  it('patches a pod status with the kubeconfig credentials over TLS (bearer token, cluster CA)', async () => {
    const { api, writer } = await serverWithPod({ tls: true, token: true });
    await writer.send('PATCH', '/api/v1/namespaces/default/pods/p/status', { status: { phase: 'Running', podIP: '10.1.2.3' } }, 'application/merge-patch+json');
    const stored = api.store.get('pods', 'default', 'p')?.object as { status?: { phase?: string; podIP?: string } };
    expect(stored.status).toMatchObject({ phase: 'Running', podIP: '10.1.2.3' });
    writer.close();
  });

  it('rejects with the HTTP status as code and the Status message, as client-node errors do', async () => {
    const { writer } = await serverWithPod();
    const error = await writer.send('PATCH', '/api/v1/namespaces/default/pods/missing/status', { status: {} }, 'application/merge-patch+json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(httpCode(error)).toBe(404);
    expect((error as Error).message).toContain('pods "missing" not found');
    const conflict = await writer
      .send('PATCH', '/api/v1/namespaces/default/pods/p/status', { metadata: { uid: 'another-uid' }, status: {} }, 'application/merge-patch+json')
      .catch((e: unknown) => e);
    expect(httpCode(conflict)).toBe(409);
    writer.close();
  });

  it('leaves clusters reached through a proxy to client-node', () => {
    const config = (proxy: string): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: 'https://10.0.0.1:6443', skipTLSVerify: false, ...(proxy ? { proxyUrl: proxy } : {}) }],
        users: [{ name: 'u' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      return kc;
    };
    expect(JsonApiWriter.handles(config(''))).toBe(true);
    expect(JsonApiWriter.handles(config('http://proxy.local:3128'))).toBe(false);
  });
});
