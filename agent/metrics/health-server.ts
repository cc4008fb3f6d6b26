import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { closeHttpServer, listenHttp } from '../util/listen-http.js';

export interface HealthResult {
  ok: boolean;
  /** Why the kubelet is unhealthy (shown in the /healthz body). */
  reason?: string;
}

export interface HealthAndMetricsServerOptions {
  /** Bind address; loopback by default so nothing is exposed unless asked for. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  /** Served on /metrics/probes when given (upstream keeps prober metrics there). */
  probesRegistry?: Registry;
  healthz: () => HealthResult | Promise<HealthResult>;
}

export interface HealthAndMetricsServer {
  readonly host: string;
  readonly port: number;
  /** Base URL, e.g. http://127.0.0.1:10248 */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The kubelet's healthz/metrics endpoint: GET /healthz answers `ok` (200) or the failing check
 * (500), GET /metrics the Prometheus text exposition of `registry`.
 */
export async function startHealthAndMetricsServer(options: HealthAndMetricsServerOptions): Promise<HealthAndMetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(err as Error).message}\n`);
    });
  });
  const endpoint = await listenHttp(server, options.port, host);
  return { ...endpoint, close: () => closeHttpServer(server) };
}

async function handle(options: HealthAndMetricsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    const result = await options.healthz();
    const body = result.ok ? 'ok' : `[-]${result.reason ?? 'unhealthy'}\nhealthz check failed\n`;
    res.writeHead(result.ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const registry = path === '/metrics' ? options.registry : path === '/metrics/probes' ? options.probesRegistry : undefined;
  if (registry) {
    const text = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : text);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('404 page not found\n');
}
