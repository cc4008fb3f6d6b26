/**
 * The agent's gRPC channel for unary CRI calls: one HTTP/2 connection to a unix socket at a time,
 * made on first use and again after it is lost (as a grpc-js or grpc-go channel's subchannel is).
 *
 * Why not grpc-js for these calls: in bench/agent's burst on the fakes, grpc-js with node:http2 under it
 * was about 60 % of the agent thread's CPU per pod (interceptor, retry, load-balancing and filter layers,
 * then a Duplex stream, validated header objects and an async resource per call), and the garbage it
 * left behind most of the GC threads' work. The kubelet's own client (grpc-go) costs a fraction of that
 * per call. Server-streaming calls, the CSI client and every fake server stay on grpc-js.
 *
 * Call semantics follow gRPC's: a call made while no connection can be made fails UNAVAILABLE at once,
 * unless it is wait-for-ready, in which case it waits (reconnect backoff 100 ms doubling to 1 s) until
 * its deadline; a call the server never saw (refused stream, above a GOAWAY's last stream, queued on a
 * lost connection or on one out of stream identifiers) is sent again, on a new connection where the old
 * one cannot take it, transparently, whatever its idempotency.
 */
import { connect } from 'node:net';
import type { Clock } from '../../clock/clock.js';
import { H2UnaryConnection, type ConnectionLimits, type UnaryMethod } from './connection.js';
import { STATUS, UnaryCallError } from './grpc-wire.js';

export type { UnaryMethod } from './connection.js';
export { UnaryCallError } from './grpc-wire.js';

export interface ChannelCallOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Wait for a connection instead of failing UNAVAILABLE while the server is unreachable. */
  readonly waitForReady?: boolean;
}

export interface ChannelOptions extends Partial<ConnectionLimits> {
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
}

const DEFAULTS = {
  maxReceiveMessageBytes: 16 * 1024 * 1024,
  maxSendMessageBytes: 16 * 1024 * 1024,
  wireDeadlineMarginMs: 1_000,
  userAgent: 'kubelet-harness-agent',
  reconnectInitialMs: 100,
  reconnectMaxMs: 1_000,
} as const;

/** A call the server never saw is sent again at most this many times. */
const TRANSPARENT_RETRIES = 5;

/** The socket path of a `unix:///abs/path` or `unix:/abs/path` endpoint (the only kind CRI runtimes serve). */
export function unixSocketPath(endpoint: string): string {
  const match = /^unix:(?:\/\/)?(\/[^/].*)$/.exec(endpoint);
  if (!match) throw new Error(`endpoint must be unix:///absolute/path, got "${endpoint}"`);
  return match[1]!;
}

export class GrpcUnaryChannel {
  private connection: H2UnaryConnection | null = null;
  private connecting: Promise<H2UnaryConnection> | null = null;
  private closed = false;
  private readonly limits: ConnectionLimits;
  private readonly reconnectInitialMs: number;
  private readonly reconnectMaxMs: number;

  constructor(
    private readonly socketPath: string,
    private readonly clock: Pick<Clock, 'setTimeout' | 'monotonic' | 'sleep'>,
    options: ChannelOptions = {},
  ) {
    this.limits = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? DEFAULTS.maxReceiveMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes ?? DEFAULTS.maxSendMessageBytes,
      wireDeadlineMarginMs: options.wireDeadlineMarginMs ?? DEFAULTS.wireDeadlineMarginMs,
      userAgent: options.userAgent ?? DEFAULTS.userAgent,
    };
    this.reconnectInitialMs = options.reconnectInitialMs ?? DEFAULTS.reconnectInitialMs;
    this.reconnectMaxMs = options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs;
  }

  async call<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, options: ChannelCallOptions): Promise<Res> {
    const { signal } = options;
    const deadlineAt = this.clock.monotonic() + options.timeoutMs;
    let backoff = this.reconnectInitialMs;
    for (let resent = 0; ; ) {
      if (this.closed) throw new UnaryCallError(STATUS.CANCELLED, 'the channel is closed', { unprocessed: true });
      let connection: H2UnaryConnection;
      try {
        connection = this.connection?.usable ? this.connection : await this.connect();
      } catch (err) {
        if (!options.waitForReady || !(err instanceof UnaryCallError)) throw err;
        const remaining = deadlineAt - this.clock.monotonic();
        if (remaining <= backoff) {
          throw new UnaryCallError(STATUS.DEADLINE_EXCEEDED, `no connection within the deadline (${err.details})`, { localDeadline: true, unprocessed: true, cause: err });
        }
        try {
          await this.clock.sleep(backoff, signal);
        } catch (reason) {
          throw new UnaryCallError(STATUS.CANCELLED, 'cancelled while waiting for a connection', { unprocessed: true, cause: reason });
        }
        backoff = Math.min(backoff * 2, this.reconnectMaxMs);
        continue;
      }
      try {
        return await connection.call(method, request, { timeoutMs: Math.max(0, deadlineAt - this.clock.monotonic()), signal });
      } catch (err) {
        if (!(err instanceof UnaryCallError) || !err.unprocessed) throw err;
        // Never sent, and the channel closed meanwhile (a connection made while it closed, say): CANCELLED as any new call.
        if (this.closed) throw new UnaryCallError(STATUS.CANCELLED, 'the channel is closed', { unprocessed: true, cause: err });
        if (err.code !== STATUS.UNAVAILABLE || resent >= TRANSPARENT_RETRIES) throw err;
        resent++;
      }
    }
  }

  /** New calls, and calls still waiting for a connection, fail CANCELLED; calls in flight finish, then the connection ends. */
  close(): void {
    this.closed = true;
    this.connection?.close();
  }

  private connect(): Promise<H2UnaryConnection> {
    this.connecting ??= new Promise<H2UnaryConnection>((resolve, reject) => {
      const socket = connect(this.socketPath);
      const onError = (err: Error): void => {
        socket.destroy();
        reject(new UnaryCallError(STATUS.UNAVAILABLE, `cannot connect to unix://${this.socketPath}: ${err.message}`, { unprocessed: true, cause: err }));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        const connection = new H2UnaryConnection(socket, this.clock, this.limits);
        if (this.closed) connection.close();
        else this.connection = connection;
        resolve(connection);
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}
