/**
 * One port-forward session of the fake's streaming server: for each port of the CRI request, a TCP
 * connection to the pod (its loopback IP, as containerd dials localhost inside the pod's network
 * namespace) joined to the port's data channel. The session ends when every connection has ended
 * (the WebSocket is then closed) or when the client goes away (the connections are then destroyed).
 */
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { Journal } from '../journal/journal.js';
import { dataChannel, errorChannel, portPrefix } from './portforward-protocol.js';
import { decodeFrame, encodeFrame, type ChannelProtocol } from './streaming-protocol.js';

export interface PortForwardStreamRequest {
  readonly podSandboxId: string;
  readonly ports: readonly number[];
}

/** Connects to a port of a sandbox; rejects with the runtime's error text. */
export type PortDialer = (podSandboxId: string, port: number) => Promise<Socket>;

export async function runPortForwardSession(
  ws: WebSocket,
  protocol: ChannelProtocol,
  request: PortForwardStreamRequest,
  dial: PortDialer,
  journal?: Journal,
): Promise<void> {
  const send = (channel: number, data: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(protocol, channel, data));
  };
  const sockets: (Socket | null)[] = request.ports.map(() => null);
  // Bytes the client sent before the connection to the pod was made.
  const early: Buffer[][] = request.ports.map(() => []);
  let clientGone = false;
  ws.on('message', (message: RawData) => {
    const bytes = Array.isArray(message) ? Buffer.concat(message) : Buffer.isBuffer(message) ? message : Buffer.from(message);
    const frame = decodeFrame(protocol, bytes, request.ports.length * 2 - 1);
    // Only data channels are the client's to write.
    if (frame.kind !== 'data' || frame.channel % 2 !== 0 || frame.data.length === 0) return;
    const index = frame.channel / 2;
    const socket = sockets[index];
    if (socket) socket.write(frame.data);
    else early[index]?.push(frame.data);
  });
  ws.once('close', () => {
    clientGone = true;
    for (const s of sockets) s?.destroy();
  });
  request.ports.forEach((port, i) => {
    send(dataChannel(i), portPrefix(port));
    send(errorChannel(i), portPrefix(port));
  });
  await Promise.all(
    request.ports.map(async (port, i) => {
      let socket: Socket;
      try {
        socket = await dial(request.podSandboxId, port);
      } catch (err) {
        // The upstream handler's wording; the streaming server knows the sandbox ID, not the pod's name or UID.
        send(errorChannel(i), Buffer.from(`error forwarding port ${port} to pod ${request.podSandboxId}, uid : ${(err as Error).message}`));
        return;
      }
      if (clientGone) {
        socket.destroy();
        return;
      }
      sockets[i] = socket;
      for (const chunk of early[i]!.splice(0)) socket.write(chunk);
      socket.on('data', (chunk: Buffer) => send(dataChannel(i), chunk));
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.on('error', () => socket.destroy());
      });
    }),
  );
  journal?.append({
    source: 'cri',
    kind: 'event',
    name: 'PortForwardSessionEnded',
    subject: { podSandboxId: request.podSandboxId },
    request: { ports: [...request.ports], protocol: protocol.name },
  });
  if (ws.readyState === ws.OPEN) ws.close(1000);
}
