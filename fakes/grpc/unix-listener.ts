import * as grpc from '@grpc/grpc-js';
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { AuthorityFilteredSocket } from './h2-authority/filtered-socket.js';
import { AuthorityFilter } from './h2-authority/frame-filter.js';

/** An empty SETTINGS frame: a valid server preface, sent before the real server exists for this connection. */
const EARLY_SERVER_PREFACE = Buffer.from([0, 0, 0, 0x4, 0, 0, 0, 0, 0]);

export interface GrpcUnixListener {
  readonly socketPath: string;
  /**
   * Stops accepting connections and removes the socket file. Connections already handed to the gRPC
   * server are left to its shutdown; those that have not sent a request yet are closed.
   */
  close(): void;
  /** Drops every open connection at once, as a dying process does. */
  destroyConnections(): void;
}

export interface ListenGrpcUnixOptions {
  /** Told when a connection is closed because its bytes could not be rewritten (see AuthorityFilter). */
  readonly onRejected?: (reason: Error) => void;
  /** Told how each connection was handed to the gRPC server: as the plain socket, or through the rewriting filter. */
  readonly onHandoff?: (how: 'socket' | 'rewriting') => void;
}

/**
 * Serves `server` on a unix socket (mode 0600) through our own listener, so that clients that send the
 * socket path as `:authority` (grpc-go: crictl and kubelets before 1.31) work, where grpc-js's own
 * bindAsync would have Node reset all their streams. A stale socket file at the path is replaced.
 *
 * Each connection is read by an AuthorityFilter until its first request's headers: grpc-go sends none
 * before the server's SETTINGS, so the listener sends an empty SETTINGS frame at once (and takes the
 * client's acknowledgement of it out of the stream). Then a client with an acceptable authority is
 * handed to the gRPC server as the plain socket with its bytes so far put back (Node's HTTP/2 reads
 * the socket natively: no cost per byte afterwards); the server's own SETTINGS follow ours, which
 * HTTP/2 allows. A client that sends the socket path keeps the filter, which rewrites each of its
 * header blocks.
 */
export async function listenGrpcUnix(server: grpc.Server, socketPath: string, options: ListenGrpcUnixOptions = {}): Promise<GrpcUnixListener> {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  /** Connections still being read by us, not yet handed to the gRPC server. */
  const unsettled = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    unsettled.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      unsettled.delete(socket);
    });
    // Until the gRPC server has the socket, errors just end it.
    const onError = (): void => void socket.destroy();
    socket.on('error', onError);
    socket.write(EARLY_SERVER_PREFACE);
    const filter = new AuthorityFilter({ dropFirstSettingsAck: true });
    const seen: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      try {
        seen.push(...filter.push(chunk));
      } catch (err) {
        options.onRejected?.(err as Error);
        socket.destroy();
        return;
      }
      if (filter.mode === 'inspecting' || filter.ackPending) return;
      unsettled.delete(socket);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      const bytes = seen.length === 1 ? seen[0]! : Buffer.concat(seen);
      if (filter.mode === 'passthrough') {
        // Node's HTTP/2 session takes bytes already buffered on the socket before reading it natively.
        if (bytes.length > 0) socket.unshift(bytes);
        injector.injectConnection(socket);
        options.onHandoff?.('socket');
      } else {
        injector.injectConnection(new AuthorityFilteredSocket(socket, filter, bytes, options.onRejected));
        options.onHandoff?.('rewriting');
      }
    };
    socket.on('data', onData);
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
      for (const socket of unsettled) socket.destroy();
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
