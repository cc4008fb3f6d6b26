/**
 * HTTP glue of the kubelet's streaming endpoints /exec, /attach (./exec.ts) and /portForward
 * (./port-forward.ts), GET and POST as upstream registers them: an upgrade request is resolved to the
 * runtime's streaming URL and proxied there; a request without an upgrade still makes the CRI call,
 * then gets upstream's "Upgrade request required" (500 from the kubelet's responder).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { attachUrl, execUrl, parseExecPath, type ExecHost, type ExecUrlAnswer } from './exec.js';
import { parsePortForwardPath, portForwardUrl } from './port-forward.js';
import { proxyUpgrade, writeRawResponse } from './upgrade-proxy.js';

export type { ExecHost };

type Resolved = ExecUrlAnswer;

/** Whether a path is one of the streaming endpoints this module serves. */
export function isStreamingPath(pathname: string): boolean {
  return /^\/(exec|attach|portForward)\//.test(pathname);
}

async function resolve(host: ExecHost | undefined, req: IncomingMessage, url: URL): Promise<Resolved> {
  const verb = /^\/(exec|attach|portForward)\//.exec(url.pathname)?.[1];
  const call =
    verb === 'portForward'
      ? withTarget(parsePortForwardPath(url.pathname), (h, target, query) => portForwardUrl(h, target, query, (req.headers.upgrade ?? '').toLowerCase() === 'websocket'))
      : verb === 'exec' || verb === 'attach'
        ? withTarget(parseExecPath(url.pathname, verb), verb === 'attach' ? attachUrl : execUrl)
        : null;
  if (call === null || !host) return { status: 404, body: '404 page not found\n' };
  if (call === 'malformed') return { status: 400, body: '400 Bad Request: invalid URL escape' };
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') return { status: 405, body: '405: Method Not Allowed' };
  return call(host, url.searchParams);
}

type Call = (host: ExecHost, query: URLSearchParams) => Promise<Resolved>;

/** A parsed path bound to its resolver. */
function withTarget<T extends object>(target: T | null | 'malformed', fn: (host: ExecHost, target: T, query: URLSearchParams) => Promise<Resolved>): Call | null | 'malformed' {
  if (target === null) return null;
  if (target === 'malformed') return 'malformed';
  return (host, query) => fn(host, target, query);
}

export function serveExecUpgrade(host: ExecHost | undefined, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  socket.on('error', () => socket.destroy());
  resolve(host, req, url).then(
    (answer) => {
      if ('status' in answer) {
        writeRawResponse(socket, answer.status, answer.body, undefined, answer.headers);
        return;
      }
      proxyUpgrade(req, socket, head, answer.url, {
        onDialError: (err) => writeRawResponse(socket, 500, `error dialing backend: ${err.message}\n`),
      });
    },
    (err: unknown) => writeRawResponse(socket, 500, (err as Error).message),
  );
}

export async function serveExecPlain(host: ExecHost | undefined, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const answer = await resolve(host, req, url);
  const [status, body, headers] = 'status' in answer ? [answer.status, answer.body, answer.headers] : [500, 'Upgrade request required\n', undefined];
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}
