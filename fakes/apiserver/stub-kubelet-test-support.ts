/**
 * Shared by the tests of the subresources the API server proxies to a node's kubelet (pods/log,
 * pods/exec, pods/attach, pods/portforward): the caller's stub kubelet listening on 127.0.0.1, a mock
 * API server whose node n1 points at it, and pods to ask about; both servers close after each test.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { startMockApiServer, type MockApiServer, type MockApiServerOptions } from './server.js';

export interface StubKubeletApi {
  readonly api: MockApiServer;
  readonly kubeletPort: number;
  /** Closes the stub kubelet now (its port then refuses connections). */
  closeKubelet(): Promise<void>;
  /** Adds pod `name` in namespace default, bound to `nodeName` ('' = not scheduled), busybox containers of those names. */
  pod(name: string, nodeName: string, containers: string[], inits?: string[]): void;
}

export interface StubKubeletApiOptions {
  readonly api?: MockApiServerOptions;
  /** Node n1's status, given the stub kubelet's port; by default InternalIP 127.0.0.1 and that port. */
  readonly nodeStatus?: (kubeletPort: number) => object;
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  // An error here only says it was closed already.
  return new Promise((r) => server.close(() => r()));
}

/** Registers the afterEach that closes what the test started; returns the function that starts a pair (a test may start several). */
export function useStubKubelet(): (kubelet: Server, options?: StubKubeletApiOptions) => Promise<StubKubeletApi> {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });

  return async (server, options = {}) => {
    open.push(() => closeServer(server));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const started = await startMockApiServer(options.api);
    open.unshift(() => started.close());
    const nodes = started.registry.type('', 'nodes');
    started.registry.create(nodes, '', { metadata: { name: 'n1' } });
    const status = options.nodeStatus?.(port) ?? { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } };
    started.registry.update(nodes, '', 'n1', { metadata: { name: 'n1' }, status }, 'status');
    const pods = started.registry.type('', 'pods');
    return {
      api: started,
      kubeletPort: port,
      closeKubelet: () => closeServer(server),
      pod(name, nodeName, containers, inits = []) {
        started.registry.create(pods, 'default', {
          metadata: { name },
          spec: { nodeName, containers: containers.map((c) => ({ name: c, image: 'busybox' })), initContainers: inits.map((c) => ({ name: c, image: 'busybox' })) },
        });
      },
    };
  };
}
