/**
 * The WebSocket port-forward protocol of the kubelet's cri/streaming package (portforward/websocket.go),
 * as pure functions. Each forwarded port has two channels, data (2i) and error (2i+1); the server first
 * writes the port as a 2-byte little-endian integer on both, then the data channel carries the TCP
 * bytes both ways and the error channel a failure's text. Framing is the channel protocol's
 * (./streaming-protocol.ts), with the v4 names and the unnamed binary one.
 */
import { negotiate, type ChannelProtocol } from './streaming-protocol.js';

const SUPPORTED: Record<string, ChannelProtocol> = {
  '': { name: '', binary: true, version: 1 },
  'v4.channel.k8s.io': { name: 'v4.channel.k8s.io', binary: true, version: 4 },
  'v4.base64.channel.k8s.io': { name: 'v4.base64.channel.k8s.io', binary: false, version: 4 },
};

export const PORT_FORWARD_SUBPROTOCOLS: readonly string[] = Object.keys(SUPPORTED).filter((p) => p !== '');

/** The first offered protocol the port-forward server supports; no offer means the unnamed binary one. */
export function negotiatePortForward(offered: readonly string[]): ChannelProtocol | null {
  return negotiate(offered, SUPPORTED);
}

export const dataChannel = (index: number): number => index * 2;
export const errorChannel = (index: number): number => index * 2 + 1;

/** What the server writes first on both channels of a port. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}
