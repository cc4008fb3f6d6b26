/**
 * A minimal gRPC unary client on node:http2: the load generator of bench/fake-cri.
 *
 * Why not a grpc-js stub: a sequential lifecycle is a chain of round trips, and with a grpc-js client
 * on one thread and a grpc-js server on the other, the client's own call machinery (interceptors,
 * filters, retry and load-balancing layers) was about half of each round trip (client ~0.35 ms, server
 * ~0.28 ms CPU per call here). A load generator should cost as little as possible so the figures are the
 * runtime's; the kubelet's own client (grpc-go) is far cheaper than grpc-js too. It is used identically
 * for every target (the fake, the bare grpc-js server, containerd).
 *
 * What it speaks (gRPC over HTTP/2): POST /package.Service/Method with content-type application/grpc,
 * te: trailers and grpc-timeout; the body is one length-prefixed message (flag byte 0 = uncompressed,
 * 4-byte big-endian length); the reply is one such message followed by trailers carrying grpc-status
 * and grpc-message (percent-encoded), or a trailers-only reply with the status in the headers.
 * No compression is offered, so a conforming server answers uncompressed.
 */
import { connect as connectHttp2, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as connectSocket } from 'node:net';
import type { Clock } from '../agent/clock/index.js';

/** The serialisers of one method, as @grpc/proto-loader's service definitions carry them. */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

/** A failed call: `code` is the gRPC status code, as on a grpc-js ServiceError. */
export class UnaryCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`);
    this.name = 'UnaryCallError';
  }
}

export interface UnaryClient {
  call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number): Promise<Res>;
  close(): void;
}

const STATUS_NAMES: Record<number, string> = {
  0: 'OK',
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  6: 'ALREADY_EXISTS',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  9: 'FAILED_PRECONDITION',
  10: 'ABORTED',
  11: 'OUT_OF_RANGE',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  15: 'DATA_LOSS',
  16: 'UNAUTHENTICATED',
};
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const INTERNAL = 13;

/** The socket path of a `unix:///abs/path` or `unix:/abs/path` endpoint (the only kind CRI runtimes serve). */
export function unixSocketPath(endpoint: string): string {
  const match = /^unix:(?:\/\/)?(\/[^/].*)$/.exec(endpoint);
  if (!match) throw new Error(`endpoint must be unix:///absolute/path, got "${endpoint}"`);
  return match[1]!;
}

/** One HTTP/2 connection to the endpoint; calls share it, as a gRPC channel's subchannel does. */
export function connectUnary(endpoint: string, clock: Pick<Clock, 'setTimeout'>): UnaryClient {
  const path = unixSocketPath(endpoint);
  // The authority of a unix-socket channel: grpc-go and grpc-js both send "localhost".
  const session: ClientHttp2Session = connectHttp2('http://localhost', { createConnection: () => connectSocket(path) });
  session.on('error', () => undefined); // surfaced per call through the streams' own errors
  return {
    call: (method, request, timeoutMs) => unaryCall(session, method, request, timeoutMs, clock),
    close: () => session.close(),
  };
}

function unaryCall<Req, Res>(session: ClientHttp2Session, method: UnaryMethod<Req, Res>, request: Req, timeoutMs: number, clock: Pick<Clock, 'setTimeout'>): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const message = method.requestSerialize(request);
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame[0] = 0;
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    let stream;
    try {
      stream = session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: method.path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
      });
    } catch (err) {
      reject(new UnaryCallError(UNAVAILABLE, (err as Error).message));
      return;
    }
    const chunks: Buffer[] = [];
    let status: IncomingHttpHeaders | null = null;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      outcome();
    };
    const timer = clock.setTimeout(() => {
      stream.close(constants.NGHTTP2_CANCEL);
      settle(() => reject(new UnaryCallError(DEADLINE_EXCEEDED, `no reply within ${timeoutMs} ms`)));
    }, timeoutMs + 1_000);
    stream.on('response', (headers) => {
      // A trailers-only reply (an error before any message) carries the status in the headers.
      if (headers['grpc-status'] !== undefined) status = headers;
      else if (Number(headers[constants.HTTP2_HEADER_STATUS]) !== 200) {
        settle(() => reject(new UnaryCallError(UNAVAILABLE, `HTTP status ${headers[constants.HTTP2_HEADER_STATUS]}`)));
      }
    });
    stream.on('trailers', (trailers) => (status = trailers));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => settle(() => reject(new UnaryCallError(UNAVAILABLE, err.message))));
    stream.on('close', () =>
      settle(() => {
        const outcome = readReply(status, Buffer.concat(chunks));
        if (outcome instanceof UnaryCallError) reject(outcome);
        else {
          try {
            resolve(method.responseDeserialize(outcome));
          } catch (err) {
            reject(new UnaryCallError(INTERNAL, `undecodable reply: ${(err as Error).message}`));
          }
        }
      }),
    );
    stream.end(frame);
  });
}

/** The reply's message bytes, or the error its status names. */
export function readReply(status: IncomingHttpHeaders | null, body: Buffer): Buffer | UnaryCallError {
  if (!status) return new UnaryCallError(INTERNAL, 'the stream ended without a grpc-status');
  const code = Number(status['grpc-status']);
  if (!Number.isInteger(code)) return new UnaryCallError(INTERNAL, `malformed grpc-status "${String(status['grpc-status'])}"`);
  if (code !== 0) return new UnaryCallError(code, percentDecode(String(status['grpc-message'] ?? '')));
  if (body.length < 5) return new UnaryCallError(INTERNAL, 'OK status without a message');
  if (body[0] !== 0) return new UnaryCallError(INTERNAL, 'compressed reply, but no compression was offered');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return new UnaryCallError(INTERNAL, `reply frame declares ${length} bytes, carries ${body.length - 5}`);
  return body.subarray(5);
}

/** grpc-message is percent-encoded (bytes outside printable ASCII, and '%' itself). */
function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
