import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../fakes/apiserver/kubeconfig.js';
import { kubeClientsFromString } from './kube-client.js';

const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

describe('kubeClientsFromString', () => {
  it('reuses keep-alive connections across requests (client-node alone opens one per request)', async () => {
    let connections = 0;
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }));
    });
    server.on('connection', () => connections++);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // Plain http needs insecure-skip-tls-verify, which gives client-node TLS options: the per-request agent case.
    const clients = kubeClientsFromString(renderKubeconfig({ server: `http://127.0.0.1:${port}` }));
    for (let i = 0; i < 10; i++) expect((await clients.core.readNamespace({ name: 'default' })).metadata?.name).toBe('default');
    // undici may open a second connection while the first is being released; never one per request.
    expect(connections).toBeLessThanOrEqual(2);
  });
});
