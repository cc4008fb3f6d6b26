import type { IncomingMessage, ServerResponse } from 'node:http';
import { getResponse, type RequestHandler } from 'msw';
import { errors, type ApiError } from './status.js';
import type { WatchStream } from './watch-stream.js';

/**
 * Serves msw request handlers from a real node:http(s) server: each IncomingMessage becomes a Fetch
 * Request, msw's handler resolution produces a Response, and the Response is written back, streaming
 * bodies chunk by chunk with backpressure (watches). In-process interception cannot see clients that
 * bring their own HTTP stack (client-node uses undici), so the handlers sit behind a real socket.
 */

/** Responses whose connection must be destroyed without an answer (fault injection). */
const droppedResponses = new WeakSet<Response>();
/** Watch responses whose source the adapter can write to the socket directly. */
const watchSources = new WeakMap<Response, WatchStream>();
/**
 * The bytes of a request body and the text of a JSON response, kept beside the Fetch objects so the
 * adapter and the handlers need not pump them through web streams. Handlers read request bodies with
 * requestBytes(), which falls back to the Request's own body when msw is used in-process (setupServer);
 * Responses still carry their bodies for such consumers.
 */
const requestBodies = new WeakMap<Request, Buffer>();
const responseTexts = new WeakMap<Response, string>();

/** The request body as bytes (fast path for requests that came through this adapter). */
export async function requestBytes(request: Request): Promise<Buffer> {
  return requestBodies.get(request) ?? Buffer.from(await request.arrayBuffer());
}

/** A JSON response whose text the adapter can write without reading the body stream. */
export function jsonText(text: string, status = 200, headers: Record<string, string> = { 'content-type': 'application/json' }): Response {
  const response = new Response(text, { status, headers });
  responseTexts.set(response, text);
  return response;
}

export function dropConnection(): Response {
  const response = new Response(null, { status: 599 });
  droppedResponses.add(response);
  return response;
}

/** Marks a watch Response whose bytes the adapter writes to the socket straight from `source`. */
export function streamed(response: Response, source: WatchStream): Response {
  watchSources.set(response, source);
  return response;
}

export function statusResponse(error: ApiError): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const retry = error.details?.retryAfterSeconds;
  if (retry !== undefined) headers['retry-after'] = String(retry);
  return jsonText(JSON.stringify(error.toStatus()), error.code, headers);
}

export interface AdapterOptions {
  /** Origin the handlers' relative paths resolve against, e.g. http://127.0.0.1:6443. */
  baseUrl: () => string;
  handlers: () => RequestHandler[];
  /** Largest request body accepted (kube-apiserver: 3 MiB); larger gets 413. */
  maxBodyBytes: number;
  onError?: (err: unknown) => void;
}

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);
/** A body this far past the limit is not even drained: the connection is closed. */
const DRAIN_CAP_FACTOR = 8;

function writeStatus(res: ServerResponse, error: ApiError, close = false): void {
  const body = JSON.stringify(error.toStatus());
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
  if (close) headers['connection'] = 'close';
  res.writeHead(error.code, headers);
  res.end(body);
}

/** Reads the body, or reports that it exceeded the limit (then drains it so the answer can be read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length'] ?? '-1');
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > limit * DRAIN_CAP_FACTOR) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', () => resolve(tooLarge ? 'too-large' : 'aborted'));
    req.on('close', () => {
      if (!req.complete) resolve(tooLarge ? 'too-large' : 'aborted');
    });
  });
}

/** Connection-level headers are meaningless on a Fetch Request (and some are forbidden there). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect']);

function toHeaders(req: IncomingMessage): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (!HOP_BY_HOP.has(name.toLowerCase())) headers.push([name, raw[i + 1] as string]);
  }
  return headers;
}


export function createRequestListener(options: AdapterOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      options.onError?.(err);
      if (!res.headersSent) writeStatus(res, errors.internal(err instanceof Error ? err.message : String(err)));
      else res.destroy();
    });
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: AdapterOptions): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  let body: Buffer | undefined;
  if (!BODYLESS.has(method) || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding']) {
    const read = await readBody(req, options.maxBodyBytes);
    if (read === 'aborted') return;
    if (read === 'too-large') {
      writeStatus(res, errors.tooLarge(options.maxBodyBytes), true);
      return;
    }
    body = read;
  }
  const init: RequestInit = { method, headers: toHeaders(req) };
  // Only long-lived requests (GETs: watches) need to learn that the client went away.
  if (method === 'GET') {
    const aborter = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    init.signal = aborter.signal;
  }
  // The body travels beside the Request (requestBytes() reads it): giving it to the Request as well
  // would make msw tee it into a clone nobody reads, on every write.
  const baseUrl = options.baseUrl();
  const request = new Request(`${baseUrl}${req.url ?? '/'}`, init);
  if (body !== undefined) requestBodies.set(request, body);
  const response = await getResponse(options.handlers(), request, { baseUrl, quiet: true });
  if (!response) {
    writeStatus(res, errors.notFoundPath());
    return;
  }
  if (droppedResponses.has(response)) {
    req.socket.destroy();
    return;
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const source = watchSources.get(response);
  if (source) {
    res.writeHead(response.status, headers);
    res.flushHeaders();
    res.once('close', () => source.cancel());
    source.attach({
      write: (chunk) => res.write(chunk),
      onDrain: (listener) => res.on('drain', listener),
      end: () => res.end(),
      destroy: () => res.destroy(),
    });
    return;
  }
  const text = responseTexts.get(response);
  if (text !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers);
    res.end(text);
    return;
  }
  const payload = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(response.status, headers);
  res.end(payload);
}
