/**
 * Port-forward over SPDY/3.1 (the kubelet streaming package's portforward.k8s.io protocol, which
 * kubectl port-forward speaks): after the 101 answer the client opens, for every connection it
 * forwards, an error stream and a data stream carrying `streamtype`, `port` and a shared `requestid`
 * header. The server answers each with SYN_REPLY; once both of a request exist it dials the pod's port
 * and joins it to the data stream; a failure is written on the error stream. Both streams are
 * half-closed (FIN) when the pod's connection ends.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Journal } from '../../journal/journal.js';
import type { PortDialer, PortForwardStreamRequest } from '../streaming-portforward.js';
import { SpdyServerConnection } from './connection.js';
import { RST_PROTOCOL_ERROR } from './frames.js';

export const PORT_FORWARD_PROTOCOL_V1 = 'portforward.k8s.io';

interface Pair {
  port: number;
  data?: number;
  error?: number;
  socket?: Socket;
  /** Bytes on the data stream before the pod's connection was made. */
  early: Buffer[];
  clientDone: boolean;
}

/**
 * Answers a SPDY upgrade of a port-forward URL: the protocol handshake (X-Stream-Protocol-Version),
 * then the session on the raw connection until it closes.
 */
export function serveSpdyPortForward(req: IncomingMessage, conn: Duplex, head: Buffer, request: PortForwardStreamRequest, dial: PortDialer, journal?: Journal): void {
  const raw = req.headers['x-stream-protocol-version'];
  const offered = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!offered.includes(PORT_FORWARD_PROTOCOL_V1)) {
    const body = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${PORT_FORWARD_PROTOCOL_V1}]\n`;
    conn.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  conn.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL_V1}\r\n\r\n`);
  runSession(conn, head, request, dial, journal);
}

function runSession(conn: Duplex, head: Buffer, request: PortForwardStreamRequest, dial: PortDialer, journal?: Journal): void {
  const pairs = new Map<string, Pair>();
  const streamPair = new Map<number, string>();

  const finish = (id: string, pair: Pair, failure?: string): void => {
    if (failure !== undefined && pair.error !== undefined) spdy.write(pair.error, Buffer.from(failure));
    if (pair.data !== undefined) spdy.finish(pair.data);
    if (pair.error !== undefined) spdy.finish(pair.error);
    pairs.delete(id);
    journal?.append({
      source: 'cri',
      kind: 'event',
      name: 'PortForwardSessionEnded',
      subject: { podSandboxId: request.podSandboxId },
      request: { ports: [pair.port], protocol: `SPDY/3.1+${PORT_FORWARD_PROTOCOL_V1}` },
      ...(failure !== undefined ? { response: { error: failure } } : {}),
    });
  };

  const start = (id: string, pair: Pair): void => {
    dial(request.podSandboxId, pair.port).then(
      (socket) => {
        if (spdy.closed || !pairs.has(id)) {
          socket.destroy();
          return;
        }
        pair.socket = socket;
        for (const chunk of pair.early.splice(0)) socket.write(chunk);
        if (pair.clientDone) socket.end();
        socket.on('data', (chunk: Buffer) => spdy.write(pair.data!, chunk));
        socket.on('error', () => socket.destroy());
        socket.once('close', () => finish(id, pair));
      },
      (err: unknown) => finish(id, pair, `error forwarding port ${pair.port} to pod ${request.podSandboxId}, uid : ${(err as Error).message}`),
    );
  };

  const spdy = new SpdyServerConnection(conn, {
    stream(streamId, headers) {
      const type = headers.get('streamtype')?.[0];
      const port = Number(headers.get('port')?.[0]);
      const id = headers.get('requestid')?.[0] ?? String(streamId);
      if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) {
        spdy.reset(streamId, RST_PROTOCOL_ERROR);
        return;
      }
      const pair = pairs.get(id) ?? { port, early: [], clientDone: false };
      pairs.set(id, pair);
      pair[type] = streamId;
      streamPair.set(streamId, id);
      if (pair.data !== undefined && pair.error !== undefined) start(id, pair);
    },
    data(streamId, bytes, fin) {
      const id = streamPair.get(streamId);
      const pair = id === undefined ? undefined : pairs.get(id);
      // Only the data stream carries bytes for the pod; the client's error stream stays empty.
      if (!pair || pair.data !== streamId) return;
      if (bytes.length > 0) {
        if (pair.socket) pair.socket.write(bytes);
        else pair.early.push(Buffer.from(bytes));
      }
      if (fin) {
        pair.clientDone = true;
        pair.socket?.end();
      }
    },
    reset(streamId) {
      const id = streamPair.get(streamId);
      if (id !== undefined) pairs.get(id)?.socket?.destroy();
    },
    closed() {
      for (const p of pairs.values()) p.socket?.destroy();
    },
  });
  spdy.receive(head);
}
