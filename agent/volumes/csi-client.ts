/**
 * A typed promise client for a CSI plugin (csi.v1) on a unix socket: `identity`, `controller` and `node`
 * groups with one lowerCamel method per RPC (`node.nodePublishVolume`, `identity.probe`, ...).
 *
 * Shares the mechanics of the CRI client (agent/runtime/grpc-call.ts): a deadline per call (default
 * 30 s, overridable per call), CsiError with `code` and `kind`, and retry with backoff on the Clock when
 * the plugin is Unavailable (restarting). The CSI spec requires every RPC to be idempotent, so every
 * call may be resent after Unavailable.
 */
import * as grpc from '@grpc/grpc-js';
import { realClock } from '../clock/real-clock.js';
import type { Clock } from '../clock/clock.js';
import type { ControllerDefinition } from '../../proto/generated/csi/csi/v1/Controller.js';
import type { IdentityDefinition } from '../../proto/generated/csi/csi/v1/Identity.js';
import type { NodeDefinition } from '../../proto/generated/csi/csi/v1/Node.js';
import { DEFAULT_BACKOFF, LOCAL_CHANNEL_OPTIONS, RpcInvoker, unixTarget, type BackoffPolicy, type RetryEvent } from '../runtime/grpc-call.js';
import { loadCsiProto } from '../runtime/proto.js';
import { CsiError } from '../runtime/rpc-error.js';
import { bindService, positiveMs, type UnaryApi } from '../runtime/typed-service.js';

export type { CallOptions, RetryEvent, BackoffPolicy } from '../runtime/grpc-call.js';

export interface CsiClientOptions {
  /** The plugin's socket: `unix:///var/lib/kubelet/plugins/<driver>/csi.sock` or a bare absolute path. */
  readonly endpoint: string;
  /** Default deadline of a call in milliseconds (30 s). */
  readonly timeoutMs?: number | undefined;
  readonly backoff?: Partial<BackoffPolicy> | undefined;
  readonly clock?: Clock | undefined;
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
}

export const DEFAULT_CSI_TIMEOUT_MS = 30_000;

export interface CsiClient {
  readonly identity: UnaryApi<IdentityDefinition>;
  readonly controller: UnaryApi<ControllerDefinition>;
  readonly node: UnaryApi<NodeDefinition>;
  /** The normalized gRPC target (`unix:///...`). */
  readonly endpoint: string;
  /** Closes the connection; later calls fail with kind Cancelled. Idempotent. */
  close(): void;
}

export function createCsiClient(options: CsiClientOptions): CsiClient {
  const target = unixTarget(options.endpoint, 'endpoint');
  const timeoutMs = positiveMs(options.timeoutMs ?? DEFAULT_CSI_TIMEOUT_MS, 'timeoutMs');
  const invoker = new RpcInvoker({
    clock: options.clock ?? realClock,
    errorClass: CsiError,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    onRetry: options.onRetry,
  });
  const csi = loadCsiProto();
  const credentials = grpc.credentials.createInsecure();
  const identityClient = new csi.Identity(target, credentials, { ...LOCAL_CHANNEL_OPTIONS });
  const channelOverride = identityClient.getChannel();
  const controllerClient = new csi.Controller(target, credentials, { channelOverride });
  const nodeClient = new csi.Node(target, credentials, { channelOverride });

  const common = {
    invoker,
    idempotent: () => true,
    unaryTimeoutMs: () => timeoutMs,
    streamTimeoutMs: () => timeoutMs,
  };
  const identity: Record<string, unknown> = {};
  const controller: Record<string, unknown> = {};
  const node: Record<string, unknown> = {};
  bindService(identity, { ...common, client: identityClient, serviceName: 'Identity', definition: csi.Identity.service });
  bindService(controller, { ...common, client: controllerClient, serviceName: 'Controller', definition: csi.Controller.service });
  bindService(node, { ...common, client: nodeClient, serviceName: 'Node', definition: csi.Node.service });

  let closed = false;
  return {
    // Each object holds one method per RPC of the same generated definition its type is derived from.
    identity: identity as unknown as UnaryApi<IdentityDefinition>,
    controller: controller as unknown as UnaryApi<ControllerDefinition>,
    node: node as unknown as UnaryApi<NodeDefinition>,
    endpoint: target,
    close(): void {
      if (closed) return;
      closed = true;
      nodeClient.close();
      controllerClient.close();
      identityClient.close();
    },
  };
}
