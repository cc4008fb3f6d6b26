import type { Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';

/** Where a listening HTTP(S) server can be reached. */
export interface HttpEndpoint {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:10250 (IPv6 hosts in brackets) */
  readonly url: string;
}

/** Starts `server` listening on host:port (0 picks a free port); a listen error (EADDRINUSE, ...) rejects. */
export async function listenHttp(server: NetServer, port: number, host: string, scheme: 'http' | 'https' = 'http'): Promise<HttpEndpoint> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return { host, port: bound, url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}

/**
 * Stops listening and drops open connections. Idempotent: a stopped agent may be stopped again (its
 * owner's close after an explicit stop), so a server that no longer listens resolves at once.
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (!server.listening) return resolve();
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
