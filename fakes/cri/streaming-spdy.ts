/**
 * Exec and attach over SPDY/3.1, what client-go's SPDY executor speaks (crictl before 1.30, and a
 * kubelet proxying an API server's exec to its runtime): the X-Stream-Protocol-Version handshake, the
 * 101 answer, then one SPDY stream per standard stream named by its `streamtype` header. Once every
 * stream the request asked for exists (30 s at most, on the injected clock) the command runs as over
 * WebSocket (./streaming-session.ts); at its end stdout and stderr are half-closed (when a process
 * ran), the outcome is written on the error stream, the other streams are reset and the connection
 * goes away, in the order containerd 1.6's streaming server sends them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Clock } from '../../agent/clock/clock.js';
import { SpdyServerConnection } from './spdy/connection.js';
import {
  expectedStreamCount,
  knownStreamType,
  offeredProtocolVersions,
  SPDY_PROTOCOL_HEADER,
  spdyHandshake,
  TerminalSizeDecoder,
  type HandshakeRefusal,
  type SpdyRemoteCommandProtocol,
  type StreamType,
  type TerminalSize,
} from './spdy/remotecommand-protocol.js';
import { StdinQueue } from './stdin-queue.js';
import { errorChannelPayload } from './streaming-protocol.js';
import { runRemoteCommand, type RemoteCommand, type RemoteCommandRunners } from './streaming-session.js';

/** The streaming package's default wait for the client's streams. */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;

export interface SpdyRemoteCommandOptions extends RemoteCommandRunners {
  readonly clock: Clock;
}

/**
 * The protocol a non-WebSocket request to /exec or /attach gets, or the answer refusing it: the
 * handshake first, then the SPDY upgrade headers (Go's error names the request's headers).
 */
export function negotiateSpdyRemoteCommand(req: IncomingMessage): SpdyRemoteCommandProtocol | HandshakeRefusal {
  const negotiated = spdyHandshake(offeredProtocolVersions(req.headers[SPDY_PROTOCOL_HEADER.toLowerCase()]));
  if ('status' in negotiated) return negotiated;
  const connection = (req.headers.connection ?? '').toLowerCase();
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (!connection.includes('upgrade') || !upgrade.includes('spdy/3.1')) {
    // The handshake has already added its answer header.
    const headers = [[SPDY_PROTOCOL_HEADER, negotiated.name] as const];
    return { status: 400, headers, body: `unable to upgrade: missing upgrade headers in request: ${goHeaderLiteral(req)}\n` };
  }
  return negotiated;
}

/** Answers an upgrade whose protocol was negotiated, and runs the session on the raw connection. */
export function serveSpdyRemoteCommand(conn: Duplex, head: Buffer, protocol: SpdyRemoteCommandProtocol, command: RemoteCommand, options: SpdyRemoteCommandOptions): void {
  conn.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n${SPDY_PROTOCOL_HEADER}: ${protocol.name}\r\n\r\n`);
  const { request } = command;
  const aborter = new AbortController();
  const stdin = request.stdin ? new StdinQueue() : undefined;
  const decoder = new TerminalSizeDecoder();
  const terminalSizes: TerminalSize[] = [];
  const streams = new Map<StreamType, number>();
  const opened: number[] = [];
  const reset = new Set<number>();
  const expected = expectedStreamCount(protocol, request);
  let counted = 0;
  let started = false;
  const protocolName = `SPDY/3.1+${protocol.name}`;
  const timer = options.clock.setTimeout(() => onTimeout(), STREAM_CREATION_TIMEOUT_MS);

  const resetStream = (id: number): void => {
    if (reset.has(id)) return;
    reset.add(id);
    spdy.reset(id);
  };
  const start = (): void => {
    started = true;
    timer.cancel();
    if (protocol.version === 1) {
      // v1 resets its error stream and closes its side of stdin as soon as the streams exist.
      const error = streams.get('error');
      if (error !== undefined) resetStream(error);
      const input = streams.get('stdin');
      if (input !== undefined) spdy.finish(input);
    }
    const write = (type: StreamType) => (bytes: Buffer) => {
      const id = streams.get(type);
      if (id !== undefined) spdy.write(id, bytes);
    };
    const transport = { protocol: protocolName, stdout: write('stdout'), stderr: write('stderr'), ...(stdin ? { stdin } : {}), signal: aborter.signal, terminalSizes };
    void runRemoteCommand(command, transport, options).then(({ outcome, status }) => {
      // The runtime closes the output streams of a process that ran; a failed start leaves them to the reset.
      const finished = new Set<number>();
      if ('exitCode' in outcome) {
        for (const type of ['stdout', 'stderr'] as const) {
          const id = streams.get(type);
          if (id !== undefined && !reset.has(id)) {
            spdy.finish(id);
            finished.add(id);
          }
        }
      }
      // Written even on v1's reset error stream, as containerd does (a client has dropped that stream by then).
      const payload = errorChannelPayload(protocol, status);
      if (payload) write('error')(payload);
      for (const id of opened) if (!finished.has(id)) resetStream(id);
      spdy.goAway();
    });
  };

  const spdy = new SpdyServerConnection(
    conn,
    {
      stream(id, headers, fin) {
        opened.push(id);
        if (started) return;
        const type = knownStreamType(protocol, headers.get('streamtype')?.[0]);
        // An unknown type is answered but not counted, as upstream only logs it.
        if (!type) return;
        streams.set(type, id);
        if (type === 'stdin' && fin) stdin?.end();
        if (++counted === expected) start();
      },
      data(id, bytes, fin) {
        if (id === streams.get('stdin')) {
          stdin?.push(bytes);
          if (fin) stdin?.end();
        } else if (id === streams.get('resize')) terminalSizes.push(...decoder.push(bytes));
      },
      reset(id) {
        if (id === streams.get('stdin')) stdin?.end();
      },
      closed() {
        timer.cancel();
        stdin?.end();
        aborter.abort();
      },
    },
  );
  spdy.receive(head);
  function onTimeout(): void {
    if (started) return;
    options.journal?.append({
      source: 'cri',
      kind: 'event',
      name: command.kind === 'exec' ? 'ExecSessionEnded' : 'AttachSessionEnded',
      subject: { containerId: request.containerId },
      request: { ...(command.kind === 'exec' ? { cmd: command.request.cmd } : {}), protocol: protocolName },
      response: { error: 'timed out waiting for client to create streams' },
    });
    spdy.goAway();
  }
}

/** The headers Go's http.Error sends with a refusal, sorted by name as Go writes them (Date and Content-Length follow). */
export function httpErrorHeaders(refusal: Pick<HandshakeRefusal, 'headers'>): [string, string][] {
  const headers: [string, string][] = [['Content-Type', 'text/plain; charset=utf-8'], ['X-Content-Type-Options', 'nosniff'], ...refusal.headers.map(([k, v]) => [k, v] as [string, string])];
  return headers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A refusal as raw HTTP on an upgrade's socket, which is then closed. */
export function httpErrorAnswer(refusal: HandshakeRefusal): string {
  const reason = refusal.status === 403 ? 'Forbidden' : 'Bad Request';
  const lines = httpErrorHeaders(refusal).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${refusal.status} ${reason}\r\n${lines}Content-Length: ${Buffer.byteLength(refusal.body)}\r\nConnection: close\r\n\r\n${refusal.body}`;
}

/** The request's headers as Go prints an http.Header with %#v: canonical names, sorted, Host left out. */
function goHeaderLiteral(req: IncomingMessage): string {
  const canonical = (name: string): string => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  const entries = Object.entries(req.headersDistinct)
    .filter(([name]) => name !== 'host')
    .map(([name, values]) => [canonical(name), values ?? []] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `http.Header{${entries.map(([name, values]) => `${JSON.stringify(name)}:[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`).join(', ')}}`;
}
