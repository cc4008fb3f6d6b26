import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../ci/util/wait.js';
import { realClock } from '../clock/real-clock.js';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { kubeClientsFromString } from './kube-client.js';
import { ApiServiceLister } from './service-lister.js';

let server: MockApiServer | undefined;
let lister: ApiServiceLister | undefined;
afterEach(async () => {
  await lister?.stop();
  await server?.close();
  lister = undefined;
  server = undefined;
});

describe('ApiServiceLister', () => {
  it('is null before its first list, then follows the cluster services through the watch', async () => {
    server = await startMockApiServer();
    const clients = kubeClientsFromString(server.kubeconfig());
    lister = new ApiServiceLister(clients, realClock);
    expect(lister.list()).toBeNull();
    await lister.start();
    expect(lister.list()?.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toEqual(['default/kubernetes']);
    await clients.core.createNamespacedService({ namespace: 'kube-system', body: { metadata: { name: 'dns' }, spec: { ports: [{ port: 53, protocol: 'UDP' }] } } });
    const seen = await waitFor('the new service', () => lister!.list()?.find((s) => s.metadata?.name === 'dns'), { timeoutMs: 5_000, intervalMs: 20 });
    expect(seen.spec?.clusterIP).toMatch(/^10\.96\./);
  });

  it('stays null while listing fails and fills in once a retry succeeds', async () => {
    server = await startMockApiServer();
    const removeFault = server.faults.add({ method: 'GET', path: '/api/v1/services', watch: false, errorRate: 1, errorCode: 503 });
    lister = new ApiServiceLister(kubeClientsFromString(server.kubeconfig()), realClock, () => undefined, 50);
    await lister.start();
    expect(lister.list()).toBeNull();
    removeFault();
    const listed = await waitFor('a successful relist', () => lister!.list() ?? undefined, { timeoutMs: 5_000, intervalMs: 20 });
    expect(listed.map((s) => s.metadata?.name)).toEqual(['kubernetes']);
  });
});
