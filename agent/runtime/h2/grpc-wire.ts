/**
 * The gRPC-over-HTTP/2 parts of a unary call that do not depend on the connection: the failure type,
 * the grpc-timeout header, message framing (a flag byte and a 4-byte big-endian length before each
 * message) and reading a reply's status (gRPC's PROTOCOL-HTTP2 document).
 */

/** gRPC status codes the transport itself produces. */
export const STATUS = { OK: 0, CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;

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

/** The reply's message bytes, or the error its status names. */
export function readReply(status: ReplyStatus | null, body: Buffer): Buffer | UnaryCallError {
  if (!status) return new UnaryCallError(STATUS.INTERNAL, 'the stream ended without a grpc-status');
  const code = Number(status['grpc-status']);
  if (!Number.isInteger(code) || code < 0) return new UnaryCallError(STATUS.INTERNAL, `malformed grpc-status "${String(status['grpc-status'])}"`);
  if (code !== 0) return new UnaryCallError(code, percentDecode(String(status['grpc-message'] ?? '')));
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
