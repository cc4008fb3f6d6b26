/**
 * A minimal client of the channel protocol (what kubectl's and client-go's WebSocket executor do),
 * for tests and conformance specs: connects to a streaming URL (a runtime's /exec/TOKEN or
 * /attach/TOKEN, the kubelet's /exec/..., an API server's pods/exec), sends stdin, collects stdout,
 * stderr and the outcome from the error channel. runPortForward does the same for one forwarded port.
 */
import { WebSocket, type RawData } from 'ws';
import { negotiatePortForward } from './portforward-protocol.js';
import { decodeFrame, encodeFrame, ERROR, negotiate, STDERR, STDIN, STDOUT, STREAM_CLOSE, type ChannelProtocol } from './streaming-protocol.js';

export interface ChannelExecOptions {
  /** Offered subprotocols, preferred first; default v5 then v4 (as client-go offers). */
  readonly protocols?: readonly string[];
  /** Sent on channel 0 right after the connection opens; with v5 stdin is then closed ([255, 0]). */
  readonly stdin?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Gives up (terminating the connection) after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** Closes the connection once stdout satisfies this (an attach, which lasts as long as the container). */
  readonly closeWhen?: (stdout: string) => boolean;
}

export interface ChannelExecResult {
  /** The subprotocol the server chose. */
  readonly protocol: string;
  readonly stdout: string;
  readonly stderr: string;
  /** The error channel's content: a Status object from v4 on (parsed), the failure's text before. */
  readonly status: unknown;
  /** 0 on Success, the ExitCode cause of a NonZeroExitCode Status, null for any other outcome. */
  readonly exitCode: number | null;
}

/** The upgrade was refused: the HTTP status and body the server answered instead. */
export class UpgradeRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: string,
    /** The answer's status line and headers, when the client read them raw. */
    readonly head = '',
  ) {
    super(`upgrade refused: ${statusCode} ${body}`);
    this.name = 'UpgradeRefused';
  }
}

export function runChannelExec(url: string, options: ChannelExecOptions = {}): Promise<ChannelExecResult> {
  let stdout = '';
  let stderr = '';
  let errorChannel = Buffer.alloc(0);
  const offered = options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  return channelSession(url, offered, options, negotiate, 'exec', () => `stdout so far: ${JSON.stringify(stdout)}`, (ws, protocol, done) => {
    if (options.stdin !== undefined) {
      if (options.stdin.length > 0) ws.send(encodeFrame(protocol, STDIN, Buffer.from(options.stdin)));
      if (protocol.version === 5) ws.send(Buffer.from([STREAM_CLOSE, STDIN]));
    }
    ws.on('message', (message: RawData) => {
      const frame = decodeFrame(protocol, bytesOf(message));
      if (frame.kind !== 'data') return;
      if (frame.channel === STDOUT) {
        stdout += frame.data.toString('utf8');
        if (options.closeWhen?.(stdout)) ws.close(1000);
      }
      else if (frame.channel === STDERR) stderr += frame.data.toString('utf8');
      else if (frame.channel === ERROR) errorChannel = Buffer.concat([errorChannel, frame.data]);
    });
    ws.on('close', () => {
      const text = errorChannel.toString('utf8');
      const status: unknown = protocol.version >= 4 && text ? JSON.parse(text) : text;
      done({ protocol: protocol.name, stdout, stderr, status, exitCode: exitCodeOf(protocol.version, status) });
    });
  });
}

const bytesOf = (message: RawData): Buffer => (Array.isArray(message) ? Buffer.concat(message) : Buffer.isBuffer(message) ? message : Buffer.from(message));

/**
 * Opens a WebSocket with the offered subprotocols and hands it to `run` once a known one was chosen;
 * rejects with UpgradeRefused for an HTTP answer, with the connection's error, or after the timeout
 * (terminating it; `progress` says what had arrived).
 */
function channelSession<T>(
  url: string,
  offered: readonly string[],
  options: Omit<ChannelExecOptions, 'stdin' | 'protocols'>,
  choose: (offered: readonly string[]) => ChannelProtocol | null,
  what: string,
  progress: () => string,
  run: (ws: WebSocket, protocol: ChannelProtocol, done: (value: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), [...offered], { headers: { ...(options.headers ?? {}) } });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${what} over ${url} did not finish in ${options.timeoutMs ?? 30_000} ms (${progress()})`));
    }, options.timeoutMs ?? 30_000);
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        reject(new UpgradeRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('open', () => {
      const protocol = choose(ws.protocol ? [ws.protocol] : []);
      if (!protocol) {
        clearTimeout(timer);
        ws.terminate();
        reject(new Error(`the server chose an unknown subprotocol ${JSON.stringify(ws.protocol)}`));
        return;
      }
      run(ws, protocol, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  });
}

/** The exit code an error channel's content reports (see ChannelExecResult.exitCode). */
export function exitCodeOf(version: number, status: unknown): number | null {
  if (version < 4) return status === '' ? 0 : null;
  const s = status as { status?: string; reason?: string; details?: { causes?: Array<{ reason?: string; message?: string }> } };
  if (s.status === 'Success') return 0;
  if (s.reason !== 'NonZeroExitCode') return null;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : null;
}

export interface PortForwardResult {
  readonly protocol: string;
  /** The 2-byte port prefixes the server wrote first on the data and error channels. */
  readonly dataPort: number | null;
  readonly errorPort: number | null;
  /** What came from the pod's port, after the prefix. */
  readonly data: Buffer;
  /** The error channel's text after the prefix ('' when the forwarding worked). */
  readonly error: string;
}

/**
 * A one-port client of the WebSocket port-forward protocol: sends `send` on the data channel, collects
 * what the pod answers until the server closes the session (the pod closed its connection).
 */
export function runPortForward(url: string, send: string | Buffer, options: Omit<ChannelExecOptions, 'stdin'> = {}): Promise<PortForwardResult> {
  const channels: [Buffer, Buffer] = [Buffer.alloc(0), Buffer.alloc(0)];
  const offered = options.protocols ?? ['v4.channel.k8s.io'];
  return channelSession(url, offered, options, negotiatePortForward, 'port-forward', () => `data so far: ${JSON.stringify(channels[0].toString())}`, (ws, protocol, done) => {
    ws.send(encodeFrame(protocol, 0, Buffer.from(send)));
    ws.on('message', (message: RawData) => {
      const frame = decodeFrame(protocol, bytesOf(message), 1);
      if (frame.kind === 'data') channels[frame.channel as 0 | 1] = Buffer.concat([channels[frame.channel as 0 | 1], frame.data]);
    });
    ws.on('close', () => {
      const [data, error] = channels;
      const port = (b: Buffer): number | null => (b.length >= 2 ? b.readUInt16LE(0) : null);
      done({ protocol: protocol.name, dataPort: port(data), errorPort: port(error), data: data.subarray(2), error: error.subarray(2).toString('utf8') });
    });
  });
}
