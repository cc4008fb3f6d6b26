/**
 * Proxies a connection upgrade (a WebSocket exec stream) to another server, as apimachinery's
 * UpgradeAwareHandler does for the kubelet (to the runtime's streaming URL) and for the API server
 * (to the kubelet): the request goes to the target's path and query with the client's headers, and
 * from then on bytes flow both ways untouched, so the backend's answer (101 and the frames, or an
 * error response) reaches the client as the backend wrote it.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface UpgradeProxyOptions {
  /** Request headers not to forward (lower case), e.g. the API server's own Authorization. */
  readonly dropHeaders?: readonly string[];
  /** Called when the backend cannot be reached, before anything was written to the client. */
  readonly onDialError: (err: NodeJS.ErrnoException) => void;
}

/** Hop-by-hop headers the proxy sets itself. */
const REPLACED = new Set(['host', 'x-forwarded-for']);

export function proxyUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: URL, options: UpgradeProxyOptions): void {
  if (target.protocol !== 'http:') {
    options.onDialError(Object.assign(new Error(`unsupported scheme ${target.protocol}`), { code: 'EPROTO' }));
    return;
  }
  const drop = new Set([...REPLACED, ...(options.dropHeaders ?? [])]);
  const port = Number(target.port || 80);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  let connected = false;
  const backend: Socket = connect({ host, port }, () => {
    connected = true;
    const lines = [`${req.method ?? 'GET'} ${target.pathname}${target.search} HTTP/1.1`, `Host: ${target.host}`];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (!drop.has(name.toLowerCase())) lines.push(`${name}: ${raw[i + 1]!}`);
    }
    // utilnet.AppendForwardedForHeader: the client's address appended to any X-Forwarded-For.
    const prior = req.headers['x-forwarded-for'];
    const remote = req.socket.remoteAddress ?? '';
    lines.push(`X-Forwarded-For: ${prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${remote}` : remote}`);
    backend.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) backend.write(head);
    backend.pipe(client);
    client.pipe(backend);
  });
  backend.on('error', (err: NodeJS.ErrnoException) => {
    if (!connected) options.onDialError(err);
    else client.destroy();
  });
  // A backend that finished cleanly has its last bytes (the error channel, the close frame) flushed to the
  // client before the client side ends; destroying here could drop them.
  backend.on('close', (hadError) => (hadError ? client.destroy() : client.end()));
  client.on('error', () => backend.destroy());
  client.on('close', () => backend.destroy());
}

/** A plain HTTP answer written on a socket that was handed over for an upgrade. */
export function writeRawResponse(
  socket: Duplex,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Readonly<Record<string, string>> = {},
): void {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    503: 'Service Unavailable',
  };
  const length = Buffer.byteLength(body);
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${reasons[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n${extra}Connection: close\r\n\r\n${body}`);
}
