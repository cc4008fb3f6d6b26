import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { V1Container, V1HTTPGetAction } from '@kubernetes/client-node';
import type { Clock } from '../../clock/clock.js';
import { resolveContainerPort } from './resolve-port.js';
import { MAX_PROBE_OUTPUT_BYTES, ProberError, type ProbeRun } from './types.js';

/**
 * The httpGet probe (upstream pkg/probe/http): one GET, keep-alives off, TLS verification off, the
 * whole exchange (redirects and body included) bounded by the timeout. 200–399 succeed; a redirect is
 * followed only to the same hostname (at most 10), otherwise the 3xx itself is a success with a
 * warning. Anything that goes wrong on the way is a failure, never a prober error.
 */

export interface HttpProbeRequest {
  readonly url: URL;
  /** Header name (canonical form) → values, in the order given. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
}

/** Go's textproto.CanonicalMIMEHeaderKey for the usual token characters: `x-custom-header` → `X-Custom-Header`. */
export function canonicalHeaderName(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
}

function joinHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Builds the request of an httpGet action (upstream NewRequestForHTTPGetAction): scheme lower-cased,
 * host = action.host or the pod IP, the port resolved against the container's ports (a ProberError when
 * it cannot be), the path as given; headers with User-Agent and `Accept: *\/*` defaults, an empty Accept
 * removing the header.
 */
export function buildHttpProbeRequest(
  action: V1HTTPGetAction,
  container: Pick<V1Container, 'ports'>,
  podIP: string,
  userAgent: string,
): HttpProbeRequest {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port as number | string, container);
  let url: URL;
  try {
    url = new URL(`${scheme}://${joinHostPort(host, port)}`);
  } catch {
    throw new ProberError(`invalid probe URL ${scheme}://${joinHostPort(host, port)}`);
  }
  const path = action.path ?? '/';
  const withoutFragment = path.split('#')[0] ?? '';
  const q = withoutFragment.indexOf('?');
  url.pathname = q >= 0 ? withoutFragment.slice(0, q) : withoutFragment;
  if (q >= 0) url.search = withoutFragment.slice(q);

  const headers = new Map<string, string[]>();
  for (const h of action.httpHeaders ?? []) {
    const name = canonicalHeaderName(h.name);
    headers.set(name, [...(headers.get(name) ?? []), h.value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [userAgent]);
  const accept = headers.get('Accept');
  if (accept === undefined) headers.set('Accept', ['*/*']);
  else if ((accept[0] ?? '') === '') headers.delete('Accept');
  return { url, headers };
}

interface Response {
  readonly status: number;
  readonly location: string | undefined;
  readonly message: http.IncomingMessage;
}

const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Runs the probe request. `timeoutMs` bounds everything, on `clock`. */
export async function httpProbe(request: HttpProbeRequest, options: { timeoutMs: number; clock: Clock }): Promise<ProbeRun> {
  const controller = new AbortController();
  const timer = options.clock.setTimeout(() => controller.abort(new TimeoutError()), options.timeoutMs);
  const first = request.url;
  const hostHeader = request.headers.get('Host')?.[0] ?? '';
  let url = first;
  try {
    for (let redirects = 0; ; redirects++) {
      // A Host header applies to the first URL and to relative redirects (which keep the host).
      const response = await send(url, request.headers, url.host === first.host ? hostHeader : '', controller.signal);
      const location = response.location;
      if (!REDIRECT_CODES.has(response.status) || location === undefined || location === '') {
        return await finish(response, controller.signal);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        response.message.destroy();
        return failure(first, `failed to parse Location header ${JSON.stringify(location)}`);
      }
      if (next.hostname !== first.hostname) {
        // Not followed: the 3xx is the answer (a warning, not a failure).
        return await finish(response, controller.signal);
      }
      response.message.destroy();
      // Go's redirect checker refuses the redirect that would make the chain 10 requests long.
      if (redirects + 1 >= MAX_REDIRECTS) return failure(next, 'stopped after 10 redirects');
      url = next;
    }
  } catch (err) {
    return failure(url, describe(err, controller.signal));
  } finally {
    timer.cancel();
  }
}

class TimeoutError extends Error {
  constructor() {
    super('context deadline exceeded (Client.Timeout exceeded while awaiting headers)');
  }
}

function describe(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message;
  return err instanceof Error ? err.message : String(err);
}

function failure(url: URL, message: string): ProbeRun {
  return { result: 'failure', output: `Get "${url.href}": ${message}` };
}

function send(url: URL, headers: ReadonlyMap<string, readonly string[]>, hostHeader: string, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing: Record<string, string | string[]> = {};
    for (const [name, values] of headers) {
      if (name === 'Host') continue;
      if (name === 'User-Agent') {
        // Go sends only the first User-Agent value, and none when it is empty.
        if ((values[0] ?? '') !== '') outgoing[name] = values[0]!;
        continue;
      }
      outgoing[name] = [...values];
    }
    if (hostHeader !== '') outgoing['Host'] = hostHeader;
    const common = {
      method: 'GET',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      headers: outgoing,
      // A fresh connection per probe, closed afterwards (Go's DisableKeepAlives sends Connection: close).
      agent: false as const,
      signal,
    };
    const onResponse = (message: http.IncomingMessage): void => {
      const location = message.headers.location;
      resolve({ status: message.statusCode ?? 0, location: Array.isArray(location) ? location[0] : location, message });
    };
    let req: http.ClientRequest;
    if (url.protocol === 'https:') {
      req = https.request({ ...common, rejectUnauthorized: false }, onResponse);
    } else if (url.protocol === 'http:') {
      req = http.request(common, onResponse);
    } else {
      reject(new Error(`unsupported protocol scheme "${url.protocol.replace(/:$/, '')}"`));
      return;
    }
    req.on('error', reject);
    req.end();
  });
}

/** Reads at most 10 KiB of the body (more is silently cut), then classifies the status. */
async function finish(response: Response, signal: AbortSignal): Promise<ProbeRun> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.message as AsyncIterable<Buffer>) {
      const room = MAX_PROBE_OUTPUT_BYTES - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= MAX_PROBE_OUTPUT_BYTES) break;
    }
  } catch (err) {
    if (signal.aborted) return { result: 'failure', output: describe(err, signal) };
    // Upstream: a body read error other than the size limit is an error of the prober.
    return { result: 'failure', output: '', error: err instanceof Error ? err : new Error(String(err)) };
  } finally {
    response.message.destroy();
  }
  const body = Buffer.concat(chunks).toString('utf8');
  const status = response.status;
  if (status >= 200 && status < 400) {
    if (status >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${body}` };
    return { result: 'success', output: body };
  }
  // The body stays out of the user-facing message (upstream issue 99425).
  return { result: 'failure', output: `HTTP probe failed with statuscode: ${status}` };
}
