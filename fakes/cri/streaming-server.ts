/**
 * The fake runtime's streaming server (what containerd runs from the kubelet's cri/streaming package):
 * CRI Exec, Attach and PortForward hand out single-use URLs http://127.0.0.1:PORT/{exec,attach,portforward}/TOKEN,
 * and a client (the kubelet's proxy, crictl, anything speaking the channel protocol) upgrades one to a
 * WebSocket or to SPDY/3.1 (./streaming-spdy.ts, ./spdy/): an exec'd command or the container's own
 * output with stdin/stdout/stderr, the outcome reported on the error channel or stream; or the pod's
 * ports (./streaming-portforward.ts, ./spdy/portforward-session.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Clock } from '../../agent/clock/clock.js';
import type { Journal } from '../journal/journal.js';
import type { ShellStdin } from './shell/interpreter.js';
import { negotiatePortForward } from './portforward-protocol.js';
import { StdinQueue } from './stdin-queue.js';
import { StreamTokenCache } from './streaming-cache.js';
import { runPortForwardSession, type PortDialer, type PortForwardStreamRequest } from './streaming-portforward.js';
import { serveSpdyPortForward } from './spdy/portforward-session.js';
import { TerminalSizeDecoder, type TerminalSize } from './spdy/remotecommand-protocol.js';
import {
  decodeFrame,
  encodeFrame,
  ERROR,
  errorChannelPayload,
  negotiate,
  offeredSubprotocols,
  readyChannel,
  RESIZE,
  STDERR,
  STDIN,
  STDOUT,
  type ChannelProtocol,
  type ExecOutcome,
} from './streaming-protocol.js';
import { runRemoteCommand, type RemoteCommand } from './streaming-session.js';
import { httpErrorAnswer, httpErrorHeaders, negotiateSpdyRemoteCommand, serveSpdyRemoteCommand } from './streaming-spdy.js';

export interface ExecStreamRequest {
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly tty: boolean;
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
}

export interface ExecStreams {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Present when the request asked for stdin. */
  readonly stdin?: ShellStdin;
  /** Aborted when the client goes away: the exec'd process is killed. */
  readonly signal: AbortSignal;
}

/** Runs an exec'd command to its end. */
export type ExecRunner = (request: ExecStreamRequest, streams: ExecStreams) => Promise<ExecOutcome>;

/** CRI Attach: the container's own streams (no command). */
export type AttachStreamRequest = Omit<ExecStreamRequest, 'cmd'>;
/** Streams the container's output from now until it exits or the client leaves (signal). */
export type AttachRunner = (request: AttachStreamRequest, streams: ExecStreams) => Promise<ExecOutcome>;

export type { PortForwardStreamRequest, PortDialer };

type CachedRequest =
  | { readonly kind: 'exec'; readonly request: ExecStreamRequest }
  | { readonly kind: 'attach'; readonly request: AttachStreamRequest }
  | { readonly kind: 'portforward'; readonly request: PortForwardStreamRequest };

export interface StreamingServerOptions {
  readonly clock: Clock;
  readonly run: ExecRunner;
  /** Serves /attach when given. */
  readonly attach?: AttachRunner;
  /** Serves /portforward when given. */
  readonly dialPort?: PortDialer;
  readonly journal?: Journal;
  /** Loopback unless asked otherwise. */
  readonly host?: string;
  readonly port?: number;
}

export interface StreamingServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly baseUrl: string;
  /** Registers an Exec request and returns its single-use URL; RESOURCE_EXHAUSTED past 1000 pending. */
  execUrl(request: ExecStreamRequest): string;
  attachUrl(request: AttachStreamRequest): string;
  portForwardUrl(request: PortForwardStreamRequest): string;
  close(): Promise<void>;
}

const STREAM_PATH = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/;

export async function startStreamingServer(options: StreamingServerOptions): Promise<StreamingServer> {
  const host = options.host ?? '127.0.0.1';
  const cache = new StreamTokenCache<CachedRequest>(options.clock);
  const sessions = new Set<WebSocket>();
  const sockets = new Set<Socket>();
  // Text messages are not checked for UTF-8, as Go's websocket package does not: their bytes are decoded
  // by the channel protocol like any other.
  const wss = new WebSocketServer({ noServer: true, skipUTF8Validation: true, handleProtocols: (offered, req) => negotiateFor(req, [...offered])?.name || false });

  const server = createServer((req, res) => plainRequest(req, res, cache));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const request = claim(req, cache);
    if ('refuse' in request) {
      refuse(socket, request.refuse, request.body);
      return;
    }
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    const { cached } = request;
    if (upgrade === 'spdy/3.1' && cached.kind === 'portforward') {
      // kubectl port-forward's protocol (and the kubelet's for port-forward on its runtime).
      serveSpdyPortForward(req, socket, head, cached.request, options.dialPort!, options.journal);
      return;
    }
    if (upgrade !== 'websocket' && cached.kind !== 'portforward') {
      // Anything but a WebSocket is taken for SPDY, as upstream does (client-go's SPDY executor).
      const protocol = negotiateSpdyRemoteCommand(req);
      if ('status' in protocol) socket.end(httpErrorAnswer(protocol));
      else serveSpdyRemoteCommand(socket, head, protocol, cached, options);
      return;
    }
    if (upgrade !== 'websocket') {
      refuse(socket, 400, 'unable to upgrade: missing upgrade headers in request\n');
      return;
    }
    const protocol = negotiateFor(req, offeredSubprotocols(req.headers['sec-websocket-protocol']));
    if (!protocol) {
      // golang.org/x/net/websocket answers a failed subprotocol handshake with a bare 403.
      refuse(socket, 403, '');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sessions.add(ws);
      ws.once('close', () => sessions.delete(ws));
      // A protocol violation by the client closes its session (ws answers it); nothing else is affected.
      ws.on('error', () => ws.terminate());
      if (cached.kind === 'portforward') void runPortForwardSession(ws, protocol, cached.request, options.dialPort!, options.journal);
      else void runSession(ws, protocol, cached, options);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    baseUrl,
    execUrl: (request) => `${baseUrl}/exec/${cache.insert({ kind: 'exec', request })}`,
    attachUrl: (request) => {
      if (!options.attach) throw new Error('the streaming server serves no attach');
      return `${baseUrl}/attach/${cache.insert({ kind: 'attach', request })}`;
    },
    portForwardUrl: (request) => {
      if (!options.dialPort) throw new Error('the streaming server serves no port-forward');
      return `${baseUrl}/portforward/${cache.insert({ kind: 'portforward', request })}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sessions) ws.terminate();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Port-forward has its own subprotocols; exec and attach share the remote command ones. */
function negotiateFor(req: IncomingMessage, offered: readonly string[]): ChannelProtocol | null {
  return STREAM_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname)?.[1] === 'portforward' ? negotiatePortForward(offered) : negotiate(offered);
}

/** The cached request for an upgrade, or why there is none; a token only works on its own kind's path. */
function claim(req: IncomingMessage, cache: StreamTokenCache<CachedRequest>): { cached: CachedRequest } | { refuse: number; body: string } {
  const method = (req.method ?? 'GET').toUpperCase();
  const m = STREAM_PATH.exec(new URL(req.url ?? '/', 'http://localhost').pathname);
  if (!m) return { refuse: 404, body: '404 page not found\n' };
  if (method !== 'GET' && method !== 'POST') return { refuse: 405, body: '405: Method Not Allowed' };
  const cached = cache.consume(m[2]!);
  if (!cached || cached.kind !== m[1]) return { refuse: 404, body: '404 page not found\n' };
  return { cached };
}

/**
 * A request without an upgrade: the token is spent, as upstream consumes it before it looks at the
 * headers; exec and attach then fail the SPDY handshake or upgrade check.
 */
function plainRequest(req: IncomingMessage, res: ServerResponse, cache: StreamTokenCache<CachedRequest>): void {
  const claimed = claim(req, cache);
  let answer: { status: number; headers: ReadonlyArray<readonly [string, string]>; body: string } = { status: 400, headers: [], body: 'unable to upgrade: missing upgrade headers in request\n' };
  if ('refuse' in claimed) answer = { status: claimed.refuse, headers: [], body: claimed.body };
  else if (claimed.cached.kind !== 'portforward') {
    const negotiated = negotiateSpdyRemoteCommand(req);
    if ('status' in negotiated) answer = negotiated;
  }
  res.writeHead(answer.status, [...httpErrorHeaders(answer), ['Content-Length', String(Buffer.byteLength(answer.body))]].flat());
  res.end(answer.body);
}

function refuse(socket: Socket, code: number, body: string): void {
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[code] ?? 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** An exec'd command, or an attach to the container's own streams, over the WebSocket channel protocol. */
async function runSession(ws: WebSocket, protocol: ChannelProtocol, command: RemoteCommand, options: StreamingServerOptions): Promise<void> {
  const aborter = new AbortController();
  const stdin = command.request.stdin ? new StdinQueue() : undefined;
  const resize = new TerminalSizeDecoder();
  const terminalSizes: TerminalSize[] = [];
  const send = (channel: number, data: Uint8Array): void => {
    if (ws.readyState === ws.OPEN) ws.send(encodeFrame(protocol, channel, data));
  };
  ws.on('message', (message: RawData) => {
    // Text or binary alike, the bytes are decoded by the negotiated protocol, as Go's receive does.
    const bytes = Array.isArray(message) ? Buffer.concat(message) : Buffer.isBuffer(message) ? message : Buffer.from(message);
    const frame = decodeFrame(protocol, bytes);
    if (frame.kind === 'data' && frame.channel === STDIN) stdin?.push(frame.data);
    else if (frame.kind === 'close' && frame.channel === STDIN) stdin?.end();
    else if (frame.kind === 'data' && frame.channel === RESIZE) terminalSizes.push(...resize.push(frame.data));
    // Other channels are the server's to write.
  });
  ws.once('close', () => {
    stdin?.end();
    aborter.abort();
  });
  // Tells the client the streams are set up.
  send(readyChannel(command.request), new Uint8Array(0));
  const transport = {
    protocol: protocol.name,
    stdout: (b: Buffer) => send(STDOUT, b),
    stderr: (b: Buffer) => send(STDERR, b),
    ...(stdin ? { stdin } : {}),
    signal: aborter.signal,
    terminalSizes,
  };
  const { status } = await runRemoteCommand(command, transport, options);
  const payload = errorChannelPayload(protocol, status);
  if (payload) send(ERROR, payload);
  if (ws.readyState === ws.OPEN) ws.close(1000);
}
