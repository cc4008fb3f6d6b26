/**
 * The gRPC-over-HTTP/2 parts of a unary call that do not depend on the connection: the failure type,
 * the grpc-timeout header, message framing (a flag byte and a 4-byte big-endian length before each
 * message), reading a reply's status, and the statuses gRPC gives to replies that are not gRPC and to
 * streams the server resets (gRPC's PROTOCOL-HTTP2 and http-grpc-status-mapping documents).
 */
import { H2_ERROR } from './frames.js';

/** gRPC status codes the transport itself produces. */
export const STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

export interface UnaryCallErrorOptions {
  /** The request never reached the server (refused stream, a GOAWAY below it, a queued call on a lost connection): safe to send again. */
  readonly unprocessed?: boolean;
  /** The deadline passed on the caller's clock (as opposed to a DEADLINE_EXCEEDED status from the server). */
  readonly localDeadline?: boolean;
  readonly cause?: unknown;
}

/** A failed call: `code` is the gRPC status code and `details` its message, as on a grpc-js ServiceError. */
export class UnaryCallError extends Error {
  readonly unprocessed: boolean;
  readonly localDeadline: boolean;
  constructor(
    readonly code: number,
    readonly details: string,
    options: UnaryCallErrorOptions = {},
  ) {
    super(`${code} ${STATUS_NAMES[code] ?? 'UNKNOWN'}: ${details}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnaryCallError';
    this.unprocessed = options.unprocessed ?? false;
    this.localDeadline = options.localDeadline ?? false;
  }
}

/**
 * The grpc-timeout header value: at most 8 digits and a unit (milliseconds while they fit, then
 * seconds, minutes, hours), rounded up so the server never gets less time than the caller allows.
 */
export function grpcTimeout(ms: number): string {
  const units: ReadonlyArray<readonly [string, number]> = [
    ['m', 1],
    ['S', 1_000],
    ['M', 60_000],
    ['H', 3_600_000],
  ];
  for (const [unit, size] of units) {
    const value = Math.max(1, Math.ceil(ms / size));
    if (value <= 99_999_999) return `${value}${unit}`;
  }
  return '99999999H';
}

/** One length-prefixed, uncompressed message. */
export function lengthPrefixed(message: Uint8Array): Buffer {
  const body = Buffer.allocUnsafe(5 + message.length);
  body[0] = 0;
  body.writeUInt32BE(message.length, 1);
  body.set(message, 5);
  return body;
}

/** The status-bearing headers of a reply (response headers or trailers). */
export type ReplyStatus = Readonly<Record<string, string | undefined>>;

/**
 * The reply's message bytes, or the error its status names. `status` is null when the stream ended
 * without trailers; trailers without a usable grpc-status are UNKNOWN, as grpc-go and grpc-js make them.
 */
export function readReply(status: ReplyStatus | null, body: Buffer): Buffer | UnaryCallError {
  if (!status) return new UnaryCallError(STATUS.INTERNAL, 'the stream ended without trailers');
  const text = status['grpc-status'];
  if (text !== '0') {
    if (text === undefined) return new UnaryCallError(STATUS.UNKNOWN, 'the trailers carry no grpc-status');
    // Decimal digits only: Number() would read "" as 0 (OK) and accept " 5" or "0x5".
    if (!/^[0-9]{1,10}$/.test(text)) return new UnaryCallError(STATUS.UNKNOWN, `malformed grpc-status "${text}"`);
    return new UnaryCallError(Number(text), percentDecode(status['grpc-message'] ?? ''));
  }
  if (body.length < 5) return new UnaryCallError(STATUS.INTERNAL, 'OK status without a message');
  if (body[0] !== 0) return new UnaryCallError(STATUS.INTERNAL, 'compressed reply, but no compression was offered');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) return new UnaryCallError(STATUS.INTERNAL, `reply frame declares ${length} bytes, carries ${body.length - 5}`);
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

/** Whether a content-type is gRPC's: application/grpc, alone or followed by "+subtype" or ";parameters". */
export function isGrpcContentType(type: string): boolean {
  if (type === 'application/grpc') return true;
  const next = type.charCodeAt(16);
  return type.startsWith('application/grpc') && (next === 0x2b || next === 0x3b);
}

/**
 * The error that response headers without a grpc-status stand for when they do not start a gRPC reply:
 * an HTTP status other than 200 maps as gRPC's http-grpc-status-mapping says; a 200 with another
 * content-type is UNKNOWN (as in grpc-go). Null for the headers of a gRPC reply.
 */
export function nonGrpcReply(headers: ReplyStatus): UnaryCallError | null {
  const status = headers[':status'];
  const type = headers['content-type'];
  if (status === '200') {
    if (type !== undefined && isGrpcContentType(type)) return null;
    return new UnaryCallError(STATUS.UNKNOWN, type === undefined ? 'reply without a content-type' : `reply with content-type "${type}", not application/grpc`);
  }
  if (status === undefined) return new UnaryCallError(STATUS.INTERNAL, 'reply without an HTTP :status');
  const typed = type === undefined ? '' : ` (content-type "${type}")`;
  return new UnaryCallError(httpStatusToGrpc(status), `HTTP status ${status}${typed} instead of a gRPC reply`);
}

function httpStatusToGrpc(status: string): number {
  switch (status) {
    case '400':
      return STATUS.INTERNAL;
    case '401':
      return STATUS.UNAUTHENTICATED;
    case '403':
      return STATUS.PERMISSION_DENIED;
    case '404':
      return STATUS.UNIMPLEMENTED;
    case '429':
    case '502':
    case '503':
    case '504':
      return STATUS.UNAVAILABLE;
    default:
      return STATUS.UNKNOWN;
  }
}

/**
 * The failure of a call whose stream the server reset, by the RST_STREAM error code (the "Errors" table
 * of gRPC's PROTOCOL-HTTP2; codes it does not list are INTERNAL, as in grpc-js). Only REFUSED_STREAM
 * says the server did no work on the call (RFC 9113 §8.7), so only it may be sent again.
 */
export function resetStreamError(code: number): UnaryCallError {
  const named = `(HTTP/2 error code ${code})`;
  switch (code) {
    case H2_ERROR.REFUSED_STREAM:
      return new UnaryCallError(STATUS.UNAVAILABLE, `the server refused the stream ${named}`, { unprocessed: true });
    case H2_ERROR.CANCEL:
      return new UnaryCallError(STATUS.CANCELLED, `the server cancelled the stream ${named}`);
    case H2_ERROR.ENHANCE_YOUR_CALM:
      return new UnaryCallError(STATUS.RESOURCE_EXHAUSTED, `the server reset the stream: ENHANCE_YOUR_CALM, bandwidth or memory exhausted ${named}`);
    case H2_ERROR.INADEQUATE_SECURITY:
      return new UnaryCallError(STATUS.PERMISSION_DENIED, `the server reset the stream: INADEQUATE_SECURITY, the transport is not secure enough ${named}`);
    default:
      return new UnaryCallError(STATUS.INTERNAL, `the server reset the stream ${named}`);
  }
}
