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
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  FLAG_FIN,
  FrameReader,
  GOAWAY,
  HeaderDeflater,
  HeaderInflater,
  PING,
  RST_PROTOCOL_ERROR,
  RST_STREAM,
  rstStreamFrame,
  SYN_REPLY,
  SYN_STREAM,
} from './frames.js';

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
  const reader = new FrameReader();
  const inflater = new HeaderInflater();
  const deflater = new HeaderDeflater();
  const pairs = new Map<string, Pair>();
  const streamPair = new Map<number, string>();
  let closed = false;
  const write = (frame: Buffer): void => {
    if (!closed && !conn.destroyed) conn.write(frame);
  };
  const end = (): void => {
    if (closed) return;
    closed = true;
    for (const p of pairs.values()) p.socket?.destroy();
    conn.destroy();
  };

  const finish = (id: string, pair: Pair, failure?: string): void => {
    if (failure !== undefined && pair.error !== undefined) write(dataFrame(pair.error, Buffer.from(failure)));
    if (pair.data !== undefined) write(dataFrame(pair.data, Buffer.alloc(0), true));
    if (pair.error !== undefined) write(dataFrame(pair.error, Buffer.alloc(0), true));
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
        if (closed || !pairs.has(id)) {
          socket.destroy();
          return;
        }
        pair.socket = socket;
        for (const chunk of pair.early.splice(0)) socket.write(chunk);
        if (pair.clientDone) socket.end();
        socket.on('data', (chunk: Buffer) => write(dataFrame(pair.data!, chunk)));
        socket.on('error', () => socket.destroy());
        socket.once('close', () => finish(id, pair));
      },
      (err: unknown) => finish(id, pair, `error forwarding port ${pair.port} to pod ${request.podSandboxId}, uid : ${(err as Error).message}`),
    );
  };

  const synStream = (payload: Buffer): void => {
    const streamId = payload.readUInt32BE(0) & 0x7fffffff;
    const headers = decodeHeaderBlock(inflater.inflate(payload.subarray(10)));
    write(controlFrame(SYN_REPLY, 0, Buffer.concat([payload.subarray(0, 4), deflater.deflate(encodeHeaderBlock(new Map()))])));
    const type = headers.get('streamtype')?.[0];
    const port = Number(headers.get('port')?.[0]);
    const id = headers.get('requestid')?.[0] ?? String(streamId);
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) {
      write(rstStreamFrame(streamId, RST_PROTOCOL_ERROR));
      return;
    }
    const pair = pairs.get(id) ?? { port, early: [], clientDone: false };
    pairs.set(id, pair);
    pair[type] = streamId;
    streamPair.set(streamId, id);
    if (pair.data !== undefined && pair.error !== undefined) start(id, pair);
  };

  const onFrame = (frame: ReturnType<FrameReader['push']>[number]): void => {
    if (!frame.control) {
      const id = streamPair.get(frame.streamId);
      const pair = id === undefined ? undefined : pairs.get(id);
      // Only the data stream carries bytes for the pod; the client's error stream stays empty.
      if (!pair || pair.data !== frame.streamId) return;
      if (frame.payload.length > 0) {
        if (pair.socket) pair.socket.write(frame.payload);
        else pair.early.push(Buffer.from(frame.payload));
      }
      if (frame.flags & FLAG_FIN) {
        pair.clientDone = true;
        pair.socket?.end();
      }
      return;
    }
    if (frame.type === SYN_STREAM) synStream(frame.payload);
    else if (frame.type === PING) write(controlFrame(PING, 0, frame.payload));
    else if (frame.type === RST_STREAM) {
      const id = streamPair.get(frame.payload.readUInt32BE(0) & 0x7fffffff);
      if (id !== undefined) pairs.get(id)?.socket?.destroy();
    } else if (frame.type === GOAWAY) end();
    // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to act on for a forwarded byte stream.
  };

  const onBytes = (chunk: Buffer): void => {
    try {
      for (const frame of reader.push(chunk)) onFrame(frame);
    } catch {
      // A malformed frame or header block ends this session only.
      end();
    }
  };
  conn.on('data', onBytes);
  conn.on('error', () => end());
  conn.once('close', () => end());
  if (head.length > 0) onBytes(head);
}
