/**
 * A minimal client of the channel protocol (what kubectl's and client-go's WebSocket executor do),
 * for tests and conformance specs: connects to a streaming URL (a runtime's /exec/TOKEN, the
 * kubelet's /exec/..., an API server's pods/exec), sends stdin, collects stdout, stderr and the
 * outcome from the error channel.
 */
import { WebSocket, type RawData } from 'ws';
import { decodeFrame, encodeFrame, ERROR, negotiate, STDERR, STDIN, STDOUT, STREAM_CLOSE } from './streaming-protocol.js';

export interface ChannelExecOptions {
  /** Offered subprotocols, preferred first; default v5 then v4 (as client-go offers). */
  readonly protocols?: readonly string[];
  /** Sent on channel 0 right after the connection opens; with v5 stdin is then closed ([255, 0]). */
  readonly stdin?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Gives up (terminating the connection) after this long; default 30 s. */
  readonly timeoutMs?: number;
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
  ) {
    super(`upgrade refused: ${statusCode} ${body}`);
    this.name = 'UpgradeRefused';
  }
}

export function runChannelExec(url: string, options: ChannelExecOptions = {}): Promise<ChannelExecResult> {
  const offered = [...(options.protocols ?? ['v5.channel.k8s.io', 'v4.channel.k8s.io'])];
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), offered, { headers: { ...(options.headers ?? {}) } });
    let stdout = '';
    let stderr = '';
    let errorChannel = Buffer.alloc(0);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`exec over ${url} did not finish in ${options.timeoutMs ?? 30_000} ms (stdout so far: ${JSON.stringify(stdout)})`));
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
      const protocol = negotiate(ws.protocol ? [ws.protocol] : []);
      if (!protocol) {
        ws.terminate();
        reject(new Error(`the server chose an unknown subprotocol ${JSON.stringify(ws.protocol)}`));
        return;
      }
      if (options.stdin !== undefined) {
        if (options.stdin.length > 0) ws.send(encodeFrame(protocol, STDIN, Buffer.from(options.stdin)));
        if (protocol.version === 5) ws.send(Buffer.from([STREAM_CLOSE, STDIN]));
      }
      ws.on('message', (message: RawData) => {
        const bytes = Array.isArray(message) ? Buffer.concat(message) : Buffer.isBuffer(message) ? message : Buffer.from(message);
        const frame = decodeFrame(protocol, bytes);
        if (frame.kind !== 'data') return;
        if (frame.channel === STDOUT) stdout += frame.data.toString('utf8');
        else if (frame.channel === STDERR) stderr += frame.data.toString('utf8');
        else if (frame.channel === ERROR) errorChannel = Buffer.concat([errorChannel, frame.data]);
      });
      ws.on('close', () => {
        clearTimeout(timer);
        const text = errorChannel.toString('utf8');
        const status: unknown = protocol.version >= 4 && text ? JSON.parse(text) : text;
        resolve({ protocol: protocol.name, stdout, stderr, status, exitCode: exitCodeOf(protocol.version, status) });
      });
    });
  });
}

function exitCodeOf(version: number, status: unknown): number | null {
  if (version < 4) return status === '' ? 0 : null;
  const s = status as { status?: string; reason?: string; details?: { causes?: Array<{ reason?: string; message?: string }> } };
  if (s.status === 'Success') return 0;
  if (s.reason !== 'NonZeroExitCode') return null;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  return cause?.message !== undefined ? Number(cause.message) : null;
}
