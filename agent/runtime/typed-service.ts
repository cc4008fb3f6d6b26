/**
 * Builds a promise/async-iterable API from a generated gRPC service definition: one lowerCamel method
 * per RPC, typed from the definition itself so the API cannot drift from the .proto.
 */
import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { CallOptions, RpcInvoker, StreamCallOptions } from './grpc-call.js';
import type { GrpcUnaryChannel } from './h2/channel.js';

type RequestOf<M> = M extends MethodDefinition<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
type ResponseOf<M> = M extends MethodDefinition<infer _Req, infer _Res, infer _ReqOut, infer ResOut> ? ResOut : never;
/** The RPC names of a generated service definition, without its string index signature. */
type RpcNames<D> = keyof { [K in keyof D as K extends string ? (string extends K ? never : K) : never]: true } & string;

/** Unary RPCs (all but `Streaming`) as promise methods. */
export type UnaryApi<D, Streaming extends string = never> = {
  readonly [K in Exclude<RpcNames<D>, Streaming> as Uncapitalize<K>]: (
    request?: RequestOf<D[K]>,
    options?: CallOptions,
  ) => Promise<ResponseOf<D[K]>>;
};

/** Server-streaming RPCs (`Streaming`) as async iterables. */
export type StreamApi<D, Streaming extends string> = {
  readonly [K in Extract<RpcNames<D>, Streaming> as Uncapitalize<K>]: (
    request?: RequestOf<D[K]>,
    options?: StreamCallOptions,
  ) => AsyncIterable<ResponseOf<D[K]>>;
};

export interface BindOptions {
  readonly invoker: RpcInvoker;
  readonly client: grpc.Client;
  /** Unary calls go over this channel instead of `client` when set (streams always use `client`). */
  readonly channel?: GrpcUnaryChannel | undefined;
  readonly serviceName: string;
  readonly definition: grpc.ServiceDefinition;
  /** Whether an RPC may be resent after Unavailable. */
  readonly idempotent: (rpcName: string) => boolean;
  /** Deadline of a unary call without a per-call timeout. */
  readonly unaryTimeoutMs: (rpcName: string, request: object) => number;
  /** Deadline of a stream without a per-call timeout (undefined: none). */
  readonly streamTimeoutMs: (rpcName: string) => number | undefined;
}

export function lowerCamel(rpcName: string): string {
  return rpcName.charAt(0).toLowerCase() + rpcName.slice(1);
}

/**
 * Adds one method per RPC of `definition` to `target`. The caller casts the result to the UnaryApi /
 * StreamApi of the same definition; both come from the same keys, so names and shapes agree.
 */
export function bindService(target: Record<string, unknown>, options: BindOptions): void {
  const { invoker, client, serviceName, definition } = options;
  for (const [rpcName, method] of Object.entries(definition)) {
    const rpc = `${serviceName}/${rpcName}`;
    const typed = method as MethodDefinition<object, unknown, unknown, unknown>;
    if (method.responseStream) {
      target[lowerCamel(rpcName)] = (request: object = {}, callOptions: StreamCallOptions = {}) =>
        invoker.serverStream({
          client,
          method: typed,
          rpc,
          request,
          timeoutMs: callOptions.timeoutMs ?? options.streamTimeoutMs(rpcName),
          options: callOptions,
        });
    } else {
      target[lowerCamel(rpcName)] = (request: object = {}, callOptions: CallOptions = {}) =>
        invoker.unary({
          client,
          channel: options.channel,
          method: typed,
          rpc,
          request,
          timeoutMs: callOptions.timeoutMs ?? options.unaryTimeoutMs(rpcName, request),
          idempotent: options.idempotent(rpcName),
          options: callOptions,
        });
    }
  }
}

export function positiveMs(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field}: expected a positive number of milliseconds, got ${value}`);
  }
  return value;
}
