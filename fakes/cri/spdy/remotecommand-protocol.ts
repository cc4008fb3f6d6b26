/**
 * The remote command (exec/attach) protocol over SPDY, as containerd's copy of the kubelet streaming
 * package serves it, as pure functions: the X-Stream-Protocol-Version handshake, which streams a
 * session waits for, and the resize stream's JSON.
 *
 * The client opens one SPDY stream per standard stream, naming it with a `streamtype` header (error,
 * stdin, stdout, stderr, resize). The server starts the command once every stream the request asked
 * for exists. Versions: v1 (channel.k8s.io) resets the error stream as soon as the streams exist, so
 * it never reports a failure; v2 writes a failure's message on the error stream; v3 adds the resize
 * stream under a TTY; v4 writes a metav1.Status as JSON; v5 is v4 on SPDY (its close signal is a
 * WebSocket matter).
 */

export const SPDY_PROTOCOL_HEADER = 'X-Stream-Protocol-Version';

export interface SpdyRemoteCommandProtocol {
  readonly name: string;
  readonly version: 1 | 2 | 3 | 4 | 5;
}

/** What containerd 1.6/1.7 accept (the vendored apimachinery list of those releases), preferred first. */
export const SPDY_REMOTE_COMMAND_PROTOCOLS: readonly SpdyRemoteCommandProtocol[] = [
  { name: 'v4.channel.k8s.io', version: 4 },
  { name: 'v3.channel.k8s.io', version: 3 },
  { name: 'v2.channel.k8s.io', version: 2 },
  { name: 'channel.k8s.io', version: 1 },
];

export interface HandshakeRefusal {
  readonly status: 400 | 403;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

/** The X-Stream-Protocol-Version values, comma-separated across repeated headers, in the client's order. */
export function offeredProtocolVersions(header: string | readonly string[] | undefined): string[] {
  const raw = typeof header === 'string' ? [header] : (header ?? []);
  return raw.flatMap((h) => h.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * The first offered protocol the server supports, in the client's order; or the refusal. containerd
 * answers a failed negotiation twice (the handshake writes its 403, then the caller writes the same
 * error as a 400 whose status line is dropped), so the 403's body holds the message twice.
 */
export function spdyHandshake(offered: readonly string[], supported: readonly SpdyRemoteCommandProtocol[] = SPDY_REMOTE_COMMAND_PROTOCOLS): SpdyRemoteCommandProtocol | HandshakeRefusal {
  if (offered.length === 0) return { status: 400, headers: [], body: `unable to upgrade: ${SPDY_PROTOCOL_HEADER} is required\n` };
  for (const p of offered) {
    const hit = supported.find((s) => s.name === p);
    if (hit) return hit;
  }
  const message = `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${supported.map((s) => s.name).join(' ')}]\n`;
  return { status: 403, headers: supported.map((s) => ['X-Accepted-Stream-Protocol-Versions', s.name] as const), body: message + message };
}

export type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** The stream types this protocol version knows (v1 and v2 have no resize stream). */
export function knownStreamType(protocol: SpdyRemoteCommandProtocol, value: string | undefined): StreamType | null {
  switch (value) {
    case 'error':
    case 'stdin':
    case 'stdout':
    case 'stderr':
      return value;
    case 'resize':
      return protocol.version >= 3 ? 'resize' : null;
    default:
      return null;
  }
}

/** How many streams the session waits for: the error stream, each requested one, and resize under a TTY from v3. */
export function expectedStreamCount(protocol: SpdyRemoteCommandProtocol, request: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): number {
  return 1 + Number(request.stdin) + Number(request.stdout) + Number(request.stderr) + Number(request.tty && protocol.version >= 3);
}

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The resize stream: a sequence of JSON objects {"Width":W,"Height":H} (Go's field matching is
 * case-insensitive; sizes are uint16). As the kubelet's decoder loop, the first value that does not
 * decode ends the reading for good: later bytes are ignored.
 */
export class TerminalSizeDecoder {
  private pending = '';
  private broken = false;
  private readonly decoder = new TextDecoder();

  /** The sizes completed by these bytes. */
  push(bytes: Uint8Array): TerminalSize[] {
    if (this.broken) return [];
    this.pending += this.decoder.decode(bytes, { stream: true });
    const sizes: TerminalSize[] = [];
    for (;;) {
      const start = this.pending.search(/\S/);
      if (start < 0) {
        this.pending = '';
        return sizes;
      }
      const end = endOfObject(this.pending, start);
      if (end === 'incomplete') return sizes;
      const size = end === 'bad' ? null : terminalSize(this.pending.slice(start, end));
      if (!size || end === 'bad') {
        this.broken = true;
        this.pending = '';
        return sizes;
      }
      sizes.push(size);
      this.pending = this.pending.slice(end);
    }
  }
}

/** Where the JSON object starting at `start` ends (exclusive), 'incomplete' if the text stops first. */
function endOfObject(text: string, start: number): number | 'incomplete' | 'bad' {
  if (text[start] !== '{') return 'bad';
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return 'incomplete';
}

function terminalSize(json: string): TerminalSize | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const size = { width: 0, height: 0 };
  for (const [key, v] of Object.entries(value)) {
    const field = key.toLowerCase();
    if (field !== 'width' && field !== 'height') continue;
    if (v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) return null;
    size[field] = v;
  }
  return size;
}
