/**
 * The kubelet server (upstream pkg/kubelet/server), on the port the node reports as
 * daemonEndpoints.kubeletEndpoint.Port: what an API server proxies pods/log to. It serves
 * GET /containerLogs/{namespace}/{pod}/{container} with upstream's parameter handling, status codes
 * and messages. Plain HTTP on 127.0.0.1 by default (upstream serves TLS on all addresses).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { decodePodLogQuery, validatePodLogOptions } from '../logs/pod-log-options.js';
import { getKubeletContainerLogs, type ContainerLogsHost } from './container-logs.js';
import { closeHttpServer, listenHttp } from '../util/listen-http.js';
import { isStreamingPath, serveExecPlain, serveExecUpgrade, type ExecHost } from './exec-endpoint.js';

export interface KubeletServerOptions {
  /** Bind address; loopback unless asked otherwise. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly logs: ContainerLogsHost;
  /** Serves /exec, /attach and /portForward (the CRI call and the upgrade proxied to the runtime's streaming URL) when given. */
  readonly exec?: ExecHost;
  /** Follow re-check period (tests). */
  readonly forceCheckPeriodMs?: number;
}

export interface KubeletServer {
  readonly host: string;
  readonly port: number;
  /** e.g. http://127.0.0.1:10250 */
  readonly url: string;
  /** Ends open log streams and stops listening. */
  close(): Promise<void>;
}

const CONTAINER_LOGS = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/;
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

export async function startKubeletServer(options: KubeletServerOptions): Promise<KubeletServer> {
  const host = options.host ?? '127.0.0.1';
  const streams = new Set<AbortController>();
  const server = createServer((req, res) => {
    const aborter = new AbortController();
    streams.add(aborter);
    res.once('close', () => {
      aborter.abort();
      streams.delete(aborter);
    });
    handle(options, req, res, aborter.signal).catch((err: unknown) => {
      if (!res.headersSent) writeError(res, 500, (err as Error).message);
      else res.end();
    });
  });
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    serveExecUpgrade(options.exec, req, socket, head);
  });
  const endpoint = await listenHttp(server, options.port, host);
  return {
    ...endpoint,
    close: () => {
      for (const s of streams) s.abort();
      for (const s of upgraded) s.destroy();
      return closeHttpServer(server);
    },
  };
}

/** go-restful's WriteError: the status and the error text as the body. */
function writeError(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, TEXT);
  res.end(message);
}

async function handle(options: KubeletServerOptions, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (isStreamingPath(url.pathname)) return serveExecPlain(options.exec, req, res, url);
  const m = CONTAINER_LOGS.exec(url.pathname);
  if (!m) {
    writeError(res, 404, '404 page not found\n');
    return;
  }
  if (req.method !== 'GET') {
    writeError(res, 405, '405: Method Not Allowed');
    return;
  }
  let namespace: string, podName: string, containerName: string;
  try {
    [namespace, podName, containerName] = [m[1], m[2], m[3]].map((s) => decodeURIComponent(s ?? '')) as [string, string, string];
  } catch {
    // Go's server refuses a malformed escape before any handler sees it.
    writeError(res, 400, '400 Bad Request: invalid URL escape');
    return;
  }
  const query = new URLSearchParams(url.searchParams);
  // The old `tail` parameter: a number of lines, or "all" for no limit.
  const tail = query.get('tail');
  if (tail) {
    if (tail === 'all') query.delete('tailLines');
    else query.set('tailLines', tail);
  }
  const decoded = decodePodLogQuery(query);
  if ('error' in decoded) {
    writeError(res, 400, '{"message": "Unable to decode query."}');
    return;
  }
  const logOptions = decoded.options;
  if (validatePodLogOptions(logOptions).length > 0) {
    writeError(res, 422, '{"message": "Invalid request."}');
    return;
  }
  const pod = options.logs.podByName(namespace, podName);
  if (!pod) {
    writeError(res, 404, `pod ${JSON.stringify(podName)} does not exist`);
    return;
  }
  const spec = pod.spec;
  const known = [...(spec?.containers ?? []), ...(spec?.initContainers ?? []), ...(spec?.ephemeralContainers ?? [])].some((c) => c.name === containerName);
  if (!known) {
    writeError(res, 404, `container ${JSON.stringify(containerName)} not found in pod ${JSON.stringify(podName)}`);
    return;
  }
  let begun = false;
  try {
    await getKubeletContainerLogs(options.logs, namespace, podName, containerName, logOptions, {
      begin: () => {
        begun = true;
        res.writeHead(200, TEXT);
        res.flushHeaders();
      },
      sink: (chunk) => write(res, chunk.data),
      signal,
      ...(options.forceCheckPeriodMs !== undefined ? { forceCheckPeriodMs: options.forceCheckPeriodMs } : {}),
    });
    res.end();
  } catch (err) {
    const message = (err as Error).message;
    if (!begun) writeError(res, 400, message);
    // Upstream's status line is out by now: the error text becomes part of the output.
    else res.end(message);
  }
}

/** Writes with backpressure: waits for drain (or the client leaving) when the socket is full. */
function write(res: ServerResponse, data: Buffer): Promise<void> | undefined {
  if (res.destroyed || res.writableEnded) return undefined;
  if (res.write(data)) return undefined;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
