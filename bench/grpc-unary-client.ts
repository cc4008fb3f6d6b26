/**
 * The load generator of bench/fake-cri: the agent's own gRPC unary channel (agent/runtime/h2), used
 * identically for every target (the fake, the bare grpc-js server, containerd). A load generator should
 * cost as little as possible so the figures are the runtime's: a grpc-js stub was about half of each
 * sequential round trip, and node:http2's client still ~190 µs of CPU per call.
 */
import type { Clock } from '../agent/clock/index.js';
import { GrpcUnaryChannel, unixSocketPath, type UnaryMethod } from '../agent/runtime/h2/channel.js';

export type { UnaryMethod } from '../agent/runtime/h2/channel.js';

export interface UnaryClient {
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number): Promise<Res>;
  close(): void;
}

/** One channel to the endpoint; calls share its connection. */
export function connectUnary(endpoint: string, clock: Pick<Clock, 'setTimeout' | 'monotonic' | 'sleep'>): UnaryClient {
  const channel = new GrpcUnaryChannel(unixSocketPath(endpoint), clock);
  return {
    call: (method, request, timeoutMs) => channel.call(method, request, { timeoutMs }),
    close: () => channel.close(),
  };
}
