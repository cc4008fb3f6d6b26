/**
 * A typed promise client for the CRI RuntimeService and ImageService (runtime.v1) over unix sockets.
 *
 * One method per RPC, named in lowerCamelCase (`runPodSandbox`, `imageFsInfo`); server-streaming RPCs
 * (`getContainerEvents`, `streamContainers`, ...) return async iterables. Messages have the shape of
 * proto/generated (see agent/runtime/proto.ts for the loader options: int64 as strings, enums as names).
 * Unary calls go over the agent's own gRPC channel (agent/runtime/h2) unless `unaryTransport` is
 * 'grpc-js'; streams always use grpc-js.
 *
 * Deadlines: every call has one — `timeoutMs` from the options (default 30 s), overridable per call.
 * As the kubelet does, ExecSync and StopContainer get the request's own timeout (seconds) on top, and
 * PullImage uses `pullTimeoutMs` (default 5 min). GetContainerEvents has no deadline unless given one.
 * Deadlines run on the injected clock (grpc-call.ts), so a hung runtime times out in virtual time too.
 *
 * Errors are CriError with `code` (number) and `kind` ('NotFound', 'Unavailable', ...).
 *
 * Restarts of the runtime: idempotent calls (reads, Stop*, Remove*, PullImage, Update*) that fail with
 * Unavailable are retried with exponential backoff on the injected Clock until their deadline. Calls
 * that must not run twice (RunPodSandbox, CreateContainer, StartContainer, ExecSync, Exec, Attach,
 * PortForward, checkpoint/restore) are sent once, waiting for a connection first (gRPC wait-for-ready).
 */
import * as grpc from '@grpc/grpc-js';
import { realClock } from '../clock/real-clock.js';
import type { Clock } from '../clock/clock.js';
import type { ImageServiceDefinition } from '../../proto/generated/cri/runtime/v1/ImageService.js';
import type { RuntimeServiceDefinition } from '../../proto/generated/cri/runtime/v1/RuntimeService.js';
import {
  DEFAULT_BACKOFF,
  LOCAL_CHANNEL_OPTIONS,
  RpcInvoker,
  unixTarget,
  type BackoffPolicy,
  type CallOptions,
  type RetryEvent,
  type StreamCallOptions,
} from './grpc-call.js';
import { GrpcUnaryChannel, unixSocketPath } from './h2/channel.js';
import { loadCriProto } from './proto.js';
import { CriError } from './rpc-error.js';
import { bindService, positiveMs, type StreamApi, type UnaryApi } from './typed-service.js';

export type { CallOptions, StreamCallOptions, RetryEvent, BackoffPolicy } from './grpc-call.js';

export interface CriClientOptions {
  /** `unix:///run/containerd/containerd.sock` or a bare absolute socket path. */
  readonly runtimeEndpoint: string;
  /** Defaults to the runtime endpoint (containerd serves both services on one socket). */
  readonly imageEndpoint?: string | undefined;
  /** Default deadline of a call in milliseconds (30 s). */
  readonly timeoutMs?: number | undefined;
  /** Default deadline of PullImage in milliseconds (5 min). */
  readonly pullTimeoutMs?: number | undefined;
  /** Timing of the Unavailable retries (100 ms doubling up to 2 s). */
  readonly backoff?: Partial<BackoffPolicy> | undefined;
  /** Time source for deadlines budgets and backoff waits. */
  readonly clock?: Clock | undefined;
  /** Observes each retry (for logs and tests). */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
  /**
   * What carries unary calls: 'h2' (default), the agent's own gRPC-over-HTTP/2 channel (agent/runtime/h2,
   * about a third of grpc-js's CPU per call), or 'grpc-js'. Server-streaming calls always use grpc-js.
   */
  readonly unaryTransport?: CriUnaryTransport | undefined;
}

export type CriUnaryTransport = 'h2' | 'grpc-js';
export const CRI_UNARY_TRANSPORTS: readonly CriUnaryTransport[] = ['h2', 'grpc-js'];

export const DEFAULT_CRI_TIMEOUT_MS = 30_000;
export const DEFAULT_PULL_TIMEOUT_MS = 300_000;

/** Server-streaming RPCs of each service, exposed as async iterables (a test checks them against the proto). */
export const CRI_STREAMING_RPCS = [
  'StreamPodSandboxes',
  'StreamContainers',
  'StreamContainerStats',
  'StreamPodSandboxStats',
  'StreamPodSandboxMetrics',
  'GetContainerEvents',
  'StreamImages',
] as const;
type StreamingRpc = (typeof CRI_STREAMING_RPCS)[number];

/** RPCs that must never be sent twice (see the module comment). */
const NOT_IDEMPOTENT: ReadonlySet<string> = new Set([
  'RunPodSandbox',
  'CreateContainer',
  'StartContainer',
  'ExecSync',
  'Exec',
  'Attach',
  'PortForward',
  'CheckpointContainer',
  'CheckpointPod',
  'RestorePod',
]);

/** Streams without a default deadline: they live as long as the consumer reads. */
const OPEN_ENDED_STREAMS: ReadonlySet<string> = new Set(['GetContainerEvents']);

export type CriRuntimeApi = UnaryApi<RuntimeServiceDefinition, StreamingRpc> &
  StreamApi<RuntimeServiceDefinition, StreamingRpc>;
export type CriImageApi = UnaryApi<ImageServiceDefinition, StreamingRpc> & StreamApi<ImageServiceDefinition, StreamingRpc>;

export interface CriClient extends CriRuntimeApi, CriImageApi {
  /** The normalized gRPC targets (`unix:///...`). */
  readonly runtimeEndpoint: string;
  readonly imageEndpoint: string;
  /** Closes the connections; later calls fail with kind Cancelled. Idempotent. */
  close(): void;
}

export function createCriClient(options: CriClientOptions): CriClient {
  const runtimeTarget = unixTarget(options.runtimeEndpoint, 'runtimeEndpoint');
  const imageTarget = unixTarget(options.imageEndpoint ?? options.runtimeEndpoint, 'imageEndpoint');
  const timeoutMs = positiveMs(options.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS, 'timeoutMs');
  const pullTimeoutMs = positiveMs(options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS, 'pullTimeoutMs');
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
  const invoker = new RpcInvoker({
    clock: options.clock ?? realClock,
    errorClass: CriError,
    backoff,
    onRetry: options.onRetry,
  });

  const cri = loadCriProto();
  const credentials = grpc.credentials.createInsecure();
  const runtimeClient = new cri.RuntimeService(runtimeTarget, credentials, { ...LOCAL_CHANNEL_OPTIONS });
  const imageClient =
    imageTarget === runtimeTarget
      ? new cri.ImageService(imageTarget, credentials, { channelOverride: runtimeClient.getChannel() })
      : new cri.ImageService(imageTarget, credentials, { ...LOCAL_CHANNEL_OPTIONS });

  const transport = options.unaryTransport ?? 'h2';
  if (!CRI_UNARY_TRANSPORTS.includes(transport)) throw new TypeError(`unaryTransport: expected one of ${CRI_UNARY_TRANSPORTS.join(', ')}, got ${JSON.stringify(transport)}`);
  const clock = options.clock ?? realClock;
  const runtimeChannel = transport === 'h2' ? new GrpcUnaryChannel(unixSocketPath(runtimeTarget), clock) : undefined;
  const imageChannel = transport === 'h2' ? (imageTarget === runtimeTarget ? runtimeChannel : new GrpcUnaryChannel(unixSocketPath(imageTarget), clock)) : undefined;

  const api: Record<string, unknown> = {};
  const common = {
    invoker,
    idempotent: (rpcName: string) => !NOT_IDEMPOTENT.has(rpcName),
    unaryTimeoutMs: (rpcName: string, request: object) => defaultDeadline(rpcName, request, timeoutMs, pullTimeoutMs),
    streamTimeoutMs: (rpcName: string) => (OPEN_ENDED_STREAMS.has(rpcName) ? undefined : timeoutMs),
  };
  bindService(api, { ...common, client: runtimeClient, channel: runtimeChannel, serviceName: 'RuntimeService', definition: cri.RuntimeService.service });
  bindService(api, { ...common, client: imageClient, channel: imageChannel, serviceName: 'ImageService', definition: cri.ImageService.service });

  let closed = false;
  Object.assign(api, {
    runtimeEndpoint: runtimeTarget,
    imageEndpoint: imageTarget,
    close(): void {
      if (closed) return;
      closed = true;
      imageClient.close();
      runtimeClient.close();
      imageChannel?.close();
      runtimeChannel?.close();
    },
  });
  // `api` now holds exactly the methods CriClient declares: both are derived from the same generated
  // service definitions (cri-client.test.ts checks the names).
  return api as unknown as CriClient;
}

/** The kubelet's rule: operations that wait on the runtime's own timer get that time on top. */
function defaultDeadline(rpcName: string, request: object, timeoutMs: number, pullTimeoutMs: number): number {
  if (rpcName === 'PullImage') return pullTimeoutMs;
  if (rpcName === 'ExecSync' || rpcName === 'StopContainer') {
    const seconds = Number((request as { timeout?: unknown }).timeout ?? 0);
    return timeoutMs + (Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0);
  }
  return timeoutMs;
}
