import * as grpc from '@grpc/grpc-js';
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { AuthorityFilteredSocket } from './h2-authority/filtered-socket.js';

export interface GrpcUnixListener {
  readonly socketPath: string;
  /** Stops accepting connections and removes the socket file; open connections are left to the gRPC server's shutdown. */
  close(): void;
  /** Drops every open connection at once, as a dying process does. */
  destroyConnections(): void;
}

export interface ListenGrpcUnixOptions {
  /** Told when a connection is closed because its bytes could not be rewritten (see AuthorityFilter). */
  readonly onRejected?: (reason: Error) => void;
}

/**
 * Serves `server` on a unix socket (mode 0600) through our own listener, so that every connection
 * passes an AuthorityFilter: clients that send the socket path as `:authority` (grpc-go, crictl and
 * kubelets before 1.31) work, where grpc-js's own bindAsync would have Node reset all their streams.
 * A stale socket file at the path is replaced.
 */
export async function listenGrpcUnix(server: grpc.Server, socketPath: string, options: ListenGrpcUnixOptions = {}): Promise<GrpcUnixListener> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    injector.injectConnection(new AuthorityFilteredSocket(socket, options.onRejected));
  });
  removeFile(socketPath);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(socketPath, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  chmodSync(socketPath, 0o600);
  // Accept errors after listening (e.g. EMFILE) drop that connection attempt, never the process.
  listener.on('error', () => {});
  let closed = false;
  return {
    socketPath,
    close: () => {
      if (closed) return;
      closed = true;
      // Synchronous: the file is gone when this returns (net.Server's callback would wait for every connection).
      listener.close();
      removeFile(socketPath);
    },
    destroyConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* absent */
  }
}
