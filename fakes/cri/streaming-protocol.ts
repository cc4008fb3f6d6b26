/**
 * The Kubernetes WebSocket channel protocol of remote commands (apimachinery httpstream/wsstream and
 * the kubelet's cri/streaming remotecommand server), as pure functions: subprotocol negotiation,
 * framing, and the Status objects written on the error channel.
 *
 * Every message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize. The base64
 * variants carry the channel as an ASCII digit and the data base64-encoded in a text message. From v4
 * the error channel carries a metav1.Status as JSON (before v4 only a failure's message); v5 adds
 * channel 255, by which a client half-closes one of its streams ([255, id]: stdin reached its end).
 */

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: a message [255, id] closes stream id (the client's stdin has ended). */
export const STREAM_CLOSE = 255;

export interface ChannelProtocol {
  /** The negotiated subprotocol; '' when the client offered none. */
  readonly name: string;
  readonly binary: boolean;
  /** 1 (channel.k8s.io, base64.channel.k8s.io and none), 4 or 5. */
  readonly version: 1 | 4 | 5;
}

/** What the runtime's streaming server accepts, the kubelet streaming package's list plus v5. */
const SUPPORTED: Record<string, ChannelProtocol> = {
  '': { name: '', binary: true, version: 1 },
  'channel.k8s.io': { name: 'channel.k8s.io', binary: true, version: 1 },
  'base64.channel.k8s.io': { name: 'base64.channel.k8s.io', binary: false, version: 1 },
  'v4.channel.k8s.io': { name: 'v4.channel.k8s.io', binary: true, version: 4 },
  'v4.base64.channel.k8s.io': { name: 'v4.base64.channel.k8s.io', binary: false, version: 4 },
  'v5.channel.k8s.io': { name: 'v5.channel.k8s.io', binary: true, version: 5 },
};

export const SUPPORTED_SUBPROTOCOLS: readonly string[] = Object.keys(SUPPORTED).filter((p) => p !== '');

/** The Sec-WebSocket-Protocol header's values, in the client's order. */
export function offeredSubprotocols(header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(',') : (header ?? '');
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/**
 * wsstream's handshake: the first protocol the client offered that the server supports (`supported`,
 * keyed by name, '' the unnamed one), in the client's order; no offer at all means the unnamed binary
 * protocol; offers with no match, null.
 */
export function negotiate(offered: readonly string[], supported: Readonly<Record<string, ChannelProtocol>> = SUPPORTED): ChannelProtocol | null {
  if (offered.length === 0) return supported['']!;
  for (const p of offered) {
    const hit = supported[p];
    if (hit && p !== '') return hit;
  }
  return null;
}

/** One outgoing message on a channel: binary [channel, ...data], or text digit + base64. */
export function encodeFrame(protocol: ChannelProtocol, channel: number, data: Uint8Array): Buffer | string {
  if (protocol.binary) {
    const frame = Buffer.allocUnsafe(data.length + 1);
    frame[0] = channel;
    frame.set(data, 1);
    return frame;
  }
  return String.fromCharCode(48 + channel) + Buffer.from(data).toString('base64');
}

export type IncomingFrame =
  | { readonly kind: 'data'; readonly channel: number; readonly data: Buffer }
  | { readonly kind: 'close'; readonly channel: number }
  | { readonly kind: 'ignored'; readonly why: string };

/**
 * Decodes a client message; an empty one, an unknown channel or bad base64 is ignored as upstream does.
 * Remote commands use channels 0 to 4; port-forward has two per port (`lastChannel` says how many).
 */
export function decodeFrame(protocol: ChannelProtocol, message: Buffer, lastChannel = RESIZE): IncomingFrame {
  if (message.length === 0) return { kind: 'ignored', why: 'empty message' };
  const first = message[0]!;
  if (protocol.version === 5 && first === STREAM_CLOSE) {
    if (message.length !== 2) return { kind: 'ignored', why: 'a close signal carries exactly one stream id' };
    return { kind: 'close', channel: message[1]! };
  }
  const channel = protocol.binary ? first : first - 48;
  if (channel < 0 || channel > lastChannel) return { kind: 'ignored', why: `no channel ${channel}` };
  const body = message.subarray(1);
  if (protocol.binary) return { kind: 'data', channel, data: body };
  const text = body.toString('latin1');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return { kind: 'ignored', why: 'malformed base64' };
  return { kind: 'data', channel, data: Buffer.from(text, 'base64') };
}

/** The outcome of an exec, as the streaming server reports it on the error channel. */
export type ExecOutcome = { readonly exitCode: number } | { readonly error: string };

export interface Status {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: Array<{ reason?: string; message: string }> };
  code?: number;
}

/**
 * The Status for an outcome (remotecommand ServeExec): Success; a non-zero exit as NonZeroExitCode
 * with an ExitCode cause (the runtime's exit error text, containerd's wording); any other failure as
 * an InternalError whose message starts with `failure` (ServeAttach says "error attaching to container").
 */
export function outcomeStatus(cmd: readonly string[], outcome: ExecOutcome, failure = 'error executing command in container'): Status {
  if ('error' in outcome) {
    const message = `${failure}: ${outcome.error}`;
    return {
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${message}`,
      reason: 'InternalError',
      details: { causes: [{ message }] },
      code: 500,
    };
  }
  if (outcome.exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${outcome.exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(outcome.exitCode) }] },
  };
}

/** What goes on the error channel: v4+ the Status as JSON; before v4 a failure's message only, nothing on success. */
export function errorChannelPayload(protocol: { readonly version: number }, status: Status): Buffer | null {
  if (protocol.version >= 4) return Buffer.from(goJson(status));
  return status.status === 'Success' ? null : Buffer.from(status.message ?? '');
}

/** The channel that gets the empty "connection established" message: stdout, else stderr, else error. */
export function readyChannel(streams: { stdout: boolean; stderr: boolean }): number {
  return streams.stdout ? STDOUT : streams.stderr ? STDERR : ERROR;
}

/** JSON as Go's encoding/json writes it: <, >, &, U+2028 and U+2029 escaped (a command's `>&2` shows as \u003e\u0026). */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
