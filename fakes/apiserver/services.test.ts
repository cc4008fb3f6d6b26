import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from './server.js';
import { nextClusterIP, validateService } from './services.js';

describe('service cluster IPs and checks', () => {
  it('hands out the lowest free address of 10.96.0.0/12 after the kubernetes service', () => {
    expect(nextClusterIP(new Set(['10.96.0.1']))).toBe('10.96.0.2');
    expect(nextClusterIP(new Set(['10.96.0.2', '10.96.0.3']))).toBe('10.96.0.4');
    expect(nextClusterIP(new Set(Array.from({ length: 300 }, (_, i) => `10.96.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`)))).toBe('10.96.1.46');
  });

  it('names the field of a service without ports, with a bad port, or with unnamed ports among several', () => {
    const svc = (spec: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'ClusterIP', ...spec } });
    expect(validateService(svc({})).map((c) => c.field)).toEqual(['spec.ports']);
    expect(validateService(svc({ clusterIP: 'None' }))).toEqual([]);
    expect(validateService(svc({ ports: [{ port: 0, protocol: 'TCP' }] })).map((c) => c.field)).toEqual(['spec.ports[0].port']);
    expect(validateService(svc({ ports: [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }] })).map((c) => c.field)).toEqual([
      'spec.ports[0].name',
      'spec.ports[1].name',
    ]);
    expect(validateService(svc({ clusterIP: '192.168.0.1', ports: [{ port: 80, protocol: 'TCP' }] })).map((c) => c.field)).toEqual(['spec.clusterIP']);
  });
});

describe('services over the API', () => {
  let server: MockApiServer;
  let core: CoreV1Api;
  beforeEach(async () => {
    server = await startMockApiServer();
    const kc = new KubeConfig();
    kc.loadFromString(server.kubeconfig());
    core = kc.makeApiClient(CoreV1Api);
  });
  afterEach(async () => {
    await server.close();
  });

  it('serves default/kubernetes at 10.96.0.1:443 from the start', async () => {
    const list = await core.listServiceForAllNamespaces();
    expect(list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toEqual(['default/kubernetes']);
    const k = list.items[0]!;
    expect(k.spec?.clusterIP).toBe('10.96.0.1');
    expect(k.spec?.ports).toEqual([{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
  });

  it('defaults and allocates a created service, keeps its IP on update, and refuses an IP in use', async () => {
    const created = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } } });
    expect(created.spec).toMatchObject({ type: 'ClusterIP', clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2'], sessionAffinity: 'None' });
    expect(created.spec?.ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 80 }]);
    const replaced = await core.replaceNamespacedService({
      name: 'web',
      namespace: 'default',
      body: { metadata: { name: 'web', resourceVersion: created.metadata?.resourceVersion }, spec: { ports: [{ port: 8080 }] } },
    });
    expect(replaced.spec?.clusterIP).toBe('10.96.0.2');
    const headless = await core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'db' }, spec: { clusterIP: 'None' } } });
    expect(headless.spec?.clusterIP).toBe('None');
    await expect(
      core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'dup' }, spec: { clusterIP: '10.96.0.2', ports: [{ port: 1 }] } } }),
    ).rejects.toMatchObject({ code: 422 });
  });
});
