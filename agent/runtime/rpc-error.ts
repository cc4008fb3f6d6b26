import { status as GrpcStatus } from '@grpc/grpc-js';

/** gRPC status codes by name, the discriminant of RpcError (`err.kind === 'NotFound'`). */
export type RpcErrorKind =
  | 'Cancelled'
  | 'Unknown'
  | 'InvalidArgument'
  | 'DeadlineExceeded'
  | 'NotFound'
  | 'AlreadyExists'
  | 'PermissionDenied'
  | 'ResourceExhausted'
  | 'FailedPrecondition'
  | 'Aborted'
  | 'OutOfRange'
  | 'Unimplemented'
  | 'Internal'
  | 'Unavailable'
  | 'DataLoss'
  | 'Unauthenticated';

const KIND_BY_CODE: Readonly<Record<number, RpcErrorKind>> = {
  [GrpcStatus.CANCELLED]: 'Cancelled',
  [GrpcStatus.UNKNOWN]: 'Unknown',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.PERMISSION_DENIED]: 'PermissionDenied',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [GrpcStatus.FAILED_PRECONDITION]: 'FailedPrecondition',
  [GrpcStatus.ABORTED]: 'Aborted',
  [GrpcStatus.OUT_OF_RANGE]: 'OutOfRange',
  [GrpcStatus.UNIMPLEMENTED]: 'Unimplemented',
  [GrpcStatus.INTERNAL]: 'Internal',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DATA_LOSS]: 'DataLoss',
  [GrpcStatus.UNAUTHENTICATED]: 'Unauthenticated',
};

export function kindOfCode(code: number): RpcErrorKind {
  return KIND_BY_CODE[code] ?? 'Unknown';
}

export interface RpcErrorInit {
  /** Numeric gRPC status code. */
  readonly code: number;
  /** Full method name, e.g. "RuntimeService/ContainerStatus". */
  readonly rpc: string;
  /** The status message the server (or grpc-js, for client-side failures) gave. */
  readonly details: string;
  /** How many times the call was sent (more than 1 when Unavailable was retried). */
  readonly attempts?: number;
  readonly cause?: unknown;
}

/**
 * A failed gRPC call with its status code as both a number (`code`) and a name (`kind`). The message
 * starts with the method and the status so a log line alone says what failed.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly kind: RpcErrorKind;
  readonly rpc: string;
  readonly details: string;
  readonly attempts: number;

  constructor(init: RpcErrorInit) {
    const kind = kindOfCode(init.code);
    const retried = init.attempts && init.attempts > 1 ? ` (after ${init.attempts} attempts)` : '';
    super(`${init.rpc}: ${kind}: ${init.details}${retried}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = init.code;
    this.kind = kind;
    this.rpc = init.rpc;
    this.details = init.details;
    this.attempts = init.attempts ?? 1;
  }

  /** True when `err` is an RpcError (of this class or a subclass) with the given kind. */
  static is(err: unknown, kind: RpcErrorKind): boolean {
    return err instanceof this && err.kind === kind;
  }
}

/** An error from a CRI RuntimeService or ImageService call. */
export class CriError extends RpcError {}

/** An error from a CSI Identity, Controller or Node call. */
export class CsiError extends RpcError {}
