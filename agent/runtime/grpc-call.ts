/**
 * The mechanics shared by the CRI and CSI clients: unix endpoints, per-call deadlines on the injected
 * clock, status codes as typed errors, and retry of Unavailable with backoff while the server restarts.
 */
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { Clock } from '../clock/clock.js';
import { type RpcError, type RpcErrorInit } from './rpc-error.js';
import { UnaryCallError, type GrpcUnaryChannel } from './h2/channel.js';

export interface CallOptions {
  /** Deadline of the whole call, retries included, in milliseconds from now. */
  readonly timeoutMs?: number;
  /** Cancels the call (and any backoff wait); the call then fails with kind Cancelled. */
  readonly signal?: AbortSignal;
  /** Set false to fail on the first Unavailable even for an idempotent call. */
  readonly retryUnavailable?: boolean;
}

export interface StreamCallOptions {
  /** Deadline of the whole stream in milliseconds; no deadline when omitted for event streams. */
  readonly timeoutMs?: number;
  /** Ends the stream; the iteration then fails with kind Cancelled unless the consumer stopped first. */
  readonly signal?: AbortSignal;
}

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 100, maxMs: 2_000, factor: 2 });

export interface RetryEvent {
  readonly rpc: string;
  /** The attempt that just failed (1-based). */
  readonly attempt: number;
  /** How long the client waits before the next attempt. */
  readonly delayMs: number;
  readonly error: RpcError;
}

export type RpcErrorClass = new (init: RpcErrorInit) => RpcError;

/**
 * Turns `unix:///path` or a bare absolute path into the gRPC target `unix:///path`. Anything else is
 * rejected with an error naming the option, since CRI and CSI endpoints on Linux are unix sockets.
 */
export function unixTarget(endpoint: string, field: string): string {
  const trimmed = endpoint.trim();
  let path: string;
  if (trimmed.startsWith('unix://')) path = trimmed.slice('unix://'.length);
  else if (trimmed.startsWith('unix:')) path = trimmed.slice('unix:'.length);
  else path = trimmed;
  if (!path || !isAbsolute(path)) {
    throw new TypeError(`${field}: expected unix:///absolute/path or an absolute socket path, got ${JSON.stringify(endpoint)}`);
  }
  return `unix://${path}`;
}

/** Channel options for a local runtime: reconnect quickly after a restart, allow CRI-sized messages. */
export const LOCAL_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
  // The kubelet's limit for CRI responses (ListContainers on a busy node can be large).
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
});

export interface InvokerOptions {
  readonly clock: Clock;
  readonly errorClass: RpcErrorClass;
  readonly backoff: BackoffPolicy;
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
}

export interface UnaryCall<Req, Res> {
  readonly client: grpc.Client;
  /** When set, the call goes over this channel (agent/runtime/h2) instead of the grpc-js client. */
  readonly channel?: GrpcUnaryChannel | undefined;
  readonly method: MethodDefinition<Req, unknown, unknown, Res>;
  /** "Service/Method", for errors. */
  readonly rpc: string;
  readonly request: Req;
  readonly timeoutMs: number;
  /**
   * Idempotent calls are retried on Unavailable until the deadline. Others are sent at most once: they
   * wait for a connection (gRPC wait-for-ready) instead, so a request is never delivered twice.
   */
  readonly idempotent: boolean;
  readonly options: CallOptions;
}

export interface StreamCall<Req, Res> {
  readonly client: grpc.Client;
  readonly method: MethodDefinition<Req, unknown, unknown, Res>;
  readonly rpc: string;
  readonly request: Req;
  readonly timeoutMs: number | undefined;
  readonly options: StreamCallOptions;
}

export class RpcInvoker {
  constructor(private readonly opts: InvokerOptions) {}

  async unary<Req, Res>(call: UnaryCall<Req, Res>): Promise<Res> {
    const { clock, backoff } = this.opts;
    const deadlineAt = clock.monotonic() + call.timeoutMs;
    const retry = call.idempotent && call.options.retryUnavailable !== false;
    let delay = backoff.initialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(call, Math.max(0, deadlineAt - clock.monotonic()));
      } catch (err) {
        const error = this.withAttempts(err as RpcError, attempt);
        if (!retry || error.kind !== 'Unavailable') throw error;
        // Give up when the next attempt could not start before the deadline.
        if (deadlineAt - clock.monotonic() <= delay) throw error;
        this.opts.onRetry?.({ rpc: call.rpc, attempt, delayMs: delay, error });
        try {
          await clock.sleep(delay, call.options.signal);
        } catch (abortReason) {
          throw this.error(call.rpc, grpc.status.CANCELLED, 'cancelled while waiting to retry', attempt, abortReason);
        }
        delay = Math.min(delay * backoff.factor, backoff.maxMs);
      }
    }
  }

  serverStream<Req, Res>(call: StreamCall<Req, Res>): AsyncIterable<Res> {
    const invoker = this;
    return {
      async *[Symbol.asyncIterator]() {
        const { signal } = call.options;
        if (signal?.aborted) throw invoker.error(call.rpc, grpc.status.CANCELLED, 'cancelled before start', 1, signal.reason);
        const { timeoutMs } = call;
        const callOptions: grpc.CallOptions = timeoutMs === undefined ? {} : { deadline: wireDeadline(timeoutMs) };
        let stream: grpc.ClientReadableStream<Res>;
        try {
          stream = call.client.makeServerStreamRequest(
            call.method.path,
            call.method.requestSerialize,
            call.method.responseDeserialize,
            call.request,
            new grpc.Metadata(),
            callOptions,
          );
        } catch (err) {
          throw invoker.error(call.rpc, grpc.status.CANCELLED, describe(err), 1, err);
        }
        // The status of a stream the consumer abandoned arrives as an 'error' event; keep it from
        // becoming an unhandled one.
        stream.on('error', () => {});
        const onAbort = (): void => stream.cancel();
        signal?.addEventListener('abort', onAbort, { once: true });
        let timedOut = false;
        const deadline =
          timeoutMs === undefined
            ? undefined
            : invoker.opts.clock.setTimeout(() => {
                timedOut = true;
                stream.cancel();
              }, timeoutMs);
        let ended = false;
        try {
          for await (const message of stream) yield message as Res;
          ended = true;
        } catch (err) {
          ended = true;
          if (timedOut && timeoutMs !== undefined) throw invoker.deadlineError(call.rpc, timeoutMs, err);
          throw invoker.toRpcError(call.rpc, err);
        } finally {
          deadline?.cancel();
          signal?.removeEventListener('abort', onAbort);
          if (!ended) stream.cancel();
        }
      },
    };
  }

  private once<Req, Res>(call: UnaryCall<Req, Res>, remainingMs: number): Promise<Res> {
    if (call.channel) return this.onceOnChannel(call, call.channel, remainingMs);
    const { signal } = call.options;
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) {
        reject(this.error(call.rpc, grpc.status.CANCELLED, 'cancelled before sending', 1, signal.reason));
        return;
      }
      const metadata = new grpc.Metadata(call.idempotent ? {} : { waitForReady: true });
      let unaryCall: grpc.ClientUnaryCall;
      let timedOut = false;
      const onAbort = (): void => unaryCall.cancel();
      // The deadline is enforced on the injected clock, so under a virtual clock a hung runtime fails
      // the call when virtual time passes the deadline, exactly as it would in real time.
      const deadline = this.opts.clock.setTimeout(() => {
        timedOut = true;
        unaryCall.cancel();
      }, remainingMs);
      // grpc-js makes an Error per call only to append the caller's stack to a failed call's error; our
      // errors name the RPC and keep grpc-js's as the cause, so its capture (a sixth of the client's CPU
      // per call, measured against a canned server) is skipped. Restored before anything else runs.
      const stackLimit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        unaryCall = call.client.makeUnaryRequest(
          call.method.path,
          call.method.requestSerialize,
          call.method.responseDeserialize,
          call.request,
          metadata,
          { deadline: wireDeadline(remainingMs) },
          (err, value) => {
            deadline.cancel();
            signal?.removeEventListener('abort', onAbort);
            if (timedOut) reject(this.deadlineError(call.rpc, remainingMs, err));
            else if (err) reject(this.toRpcError(call.rpc, err));
            else if (value === undefined) reject(this.error(call.rpc, grpc.status.INTERNAL, 'empty response', 1));
            else resolve(value);
          },
        );
      } catch (err) {
        Error.stackTraceLimit = stackLimit;
        deadline.cancel();
        // grpc-js throws synchronously when the channel was closed.
        reject(this.error(call.rpc, grpc.status.CANCELLED, describe(err), 1, err));
        return;
      } finally {
        Error.stackTraceLimit = stackLimit;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async onceOnChannel<Req, Res>(call: UnaryCall<Req, Res>, channel: GrpcUnaryChannel, remainingMs: number): Promise<Res> {
    const { signal } = call.options;
    if (signal?.aborted) throw this.error(call.rpc, grpc.status.CANCELLED, 'cancelled before sending', 1, signal.reason);
    try {
      // Non-idempotent calls wait for a connection rather than fail, so they are never delivered twice.
      return await channel.call(call.method, call.request, {
        timeoutMs: remainingMs,
        signal,
        waitForReady: !call.idempotent,
      });
    } catch (err) {
      if (err instanceof UnaryCallError) {
        if (err.localDeadline) throw this.deadlineError(call.rpc, remainingMs, err);
        throw this.error(call.rpc, err.code, err.details, 1, err);
      }
      throw this.toRpcError(call.rpc, err);
    }
  }

  private deadlineError(rpc: string, timeoutMs: number, cause: unknown): RpcError {
    return this.error(rpc, grpc.status.DEADLINE_EXCEEDED, `deadline of ${Math.round(timeoutMs)} ms exceeded`, 1, cause);
  }

  private toRpcError(rpc: string, err: unknown): RpcError {
    if (err instanceof this.opts.errorClass) return err;
    if (isServiceError(err)) return this.error(rpc, err.code, err.details || err.message, 1, err);
    return this.error(rpc, grpc.status.UNKNOWN, describe(err), 1, err);
  }

  private withAttempts(err: RpcError, attempts: number): RpcError {
    if (attempts === 1 || err.attempts === attempts) return err;
    return this.error(err.rpc, err.code, err.details, attempts, err.cause);
  }

  private error(rpc: string, code: number, details: string, attempts: number, cause?: unknown): RpcError {
    return new this.opts.errorClass({ rpc, code, details, attempts, cause });
  }
}

/**
 * The deadline sent on the wire (grpc-timeout), so the runtime can abandon work the caller gave up on.
 * The call itself ends on the injected clock's timer; grpc-js's own real-time timer for this deadline
 * trails it by a margin and only matters when a virtual clock is never advanced past the deadline.
 */
const WIRE_DEADLINE_MARGIN_MS = 1_000;

function wireDeadline(timeoutMs: number): Date {
  return new Date(Date.now() + timeoutMs + WIRE_DEADLINE_MARGIN_MS);
}

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
