/**
 * HTTP glue of the kubelet's /exec (GET and POST, as upstream registers both): an upgrade request is
 * resolved to the runtime's streaming URL (./exec.ts) and proxied there; a request without an upgrade
 * still makes the CRI call, then gets upstream's "Upgrade request required" (500 from the kubelet's
 * responder).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { execUrl, parseExecPath, type ExecHost, type ExecUrlAnswer } from './exec.js';
import { proxyUpgrade, writeRawResponse } from './upgrade-proxy.js';

export type { ExecHost };

type Resolved = ExecUrlAnswer;

async function resolve(host: ExecHost | undefined, req: IncomingMessage, url: URL): Promise<Resolved> {
  const target = parseExecPath(url.pathname);
  if (target === null || !host) return { status: 404, body: '404 page not found\n' };
  if (target === 'malformed') return { status: 400, body: '400 Bad Request: invalid URL escape' };
  const method = (req.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'POST') return { status: 405, body: '405: Method Not Allowed' };
  return execUrl(host, target, url.searchParams);
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
