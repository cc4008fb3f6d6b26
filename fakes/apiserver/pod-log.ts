/**
 * GET /api/v1/namespaces/{ns}/pods/{name}/log, as kube-apiserver serves it (registry/core/pod/rest
 * LogREST, pod strategy LogLocation, the node connection info getter, LocationStreamer and
 * GenericHttpResponseChecker): options decoded and validated, the container chosen or checked, the
 * node's kubelet found from Node.status (an address by preferred type and
 * daemonEndpoints.kubeletEndpoint.Port), and its /containerLogs answer proxied: streamed as it comes
 * (follow), its errors turned into Status objects the way the API server does.
 * Difference: the kubelet is reached over plain HTTP (upstream: HTTPS with a client certificate).
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { decodePodLogQuery, kubeletLogQuery, validatePodLogOptions } from '../../agent/logs/pod-log-options.js';
import type { Journal } from '../journal/journal.js';
import { statusResponse, streamed } from './http-adapter.js';
import type { ApiRegistry } from './registry.js';
import { ApiError, errors } from './status.js';
import type { WatchStream, WatchWriter } from './watch-stream.js';

/** Node address types tried in order (kubeadm's --kubelet-preferred-address-types; the flag's own default puts Hostname first). */
export const PREFERRED_ADDRESS_TYPES = ['InternalIP', 'ExternalIP', 'Hostname'] as const;
/** The kubelet port when a node reports none (ports.KubeletPort). */
export const DEFAULT_KUBELET_PORT = 10250;
/** How much of a kubelet's error answer is read (upstream maxReadLength). */
const MAX_ERROR_BODY = 50_000;

export interface PodLogContext {
  readonly registry: ApiRegistry;
  readonly journal?: Journal | undefined;
}

export async function servePodLog(ctx: PodLogContext, request: Request, url: URL, namespace: string, name: string): Promise<Response> {
  const code = await answer(ctx, request, url, namespace, name).catch((err: unknown) => {
    if (err instanceof ApiError) return statusResponse(err);
    throw err;
  });
  ctx.journal?.append({
    source: 'apiserver',
    kind: 'rpc',
    name: 'get pods/log',
    subject: { resource: 'pods', namespace, name },
    response: { code: code.status },
  });
  return code;
}

async function answer(ctx: PodLogContext, request: Request, url: URL, namespace: string, name: string): Promise<Response> {
  if (request.method.toUpperCase() !== 'GET') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  const decoded = decodePodLogQuery(url.searchParams);
  if ('error' in decoded) throw errors.badRequest(decoded.error);
  const opts = decoded.options;
  const problems = validatePodLogOptions(opts);
  if (problems.length > 0) {
    // field.ErrorList.ToAggregate: "<field>: <body>", several in brackets.
    const texts = problems.map((p) => `${p.field}: ${p.message}`);
    const causes = problems.map((p) => ({ reason: p.reason, message: p.message, ...(p.field ? { field: p.field } : {}) }));
    throw new ApiError(422, 'Invalid', `PodLogOptions "${name}" is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`, {
      name,
      kind: 'PodLogOptions',
      causes,
    });
  }
  const pods = ctx.registry.type('', 'pods');
  const pod = ctx.registry.get(pods, namespace, name).object as unknown as V1Pod;
  const container = chooseContainer(pod, name, opts.container);
  const nodeName = pod.spec?.nodeName ?? '';
  // No node yet: upstream's LocationStreamer has no location and answers with no content.
  if (nodeName === '') return new Response(null, { status: 204 });
  const hostPort = kubeletHostPort(ctx.registry, nodeName);
  const query = kubeletLogQuery(opts).toString();
  const segments = [namespace, name, container].map(encodeURIComponent).join('/');
  const path = `/containerLogs/${segments}${query ? `?${query}` : ''}`;
  return proxy(`http://${hostPort}${path}`, hostPort, name, request.signal);
}

/**
 * The node's kubelet as host:port (the node connection info getter): an address by preferred type and
 * daemonEndpoints.kubeletEndpoint.Port, the default port when it reports none. Shared with pods/exec.
 */
export function kubeletHostPort(registry: ApiRegistry, nodeName: string): string {
  const node = registry.get(registry.type('', 'nodes'), '', nodeName).object as unknown as V1Node;
  const host = preferredAddress(node);
  const reported = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
  const port = reported > 0 ? reported : DEFAULT_KUBELET_PORT;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** LogLocation's (and streamLocation's) container rule: the only container, or the named one, which must exist. */
export function chooseContainer(pod: V1Pod, name: string, container: string | undefined): string {
  const containers = pod.spec?.containers ?? [];
  const inits = pod.spec?.initContainers ?? [];
  if (container) {
    const all = [...containers, ...inits, ...(pod.spec?.ephemeralContainers ?? [])];
    if (!all.some((c) => c.name === container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
    return container;
  }
  if (containers.length === 1) return containers[0]?.name ?? '';
  if (containers.length === 0) throw errors.badRequest(`a container name must be specified for pod ${name}`);
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
  if (inits.length > 0) message += ` or one of the init containers: [${inits.map((c) => c.name).join(' ')}]`;
  throw errors.badRequest(message);
}

function preferredAddress(node: V1Node): string {
  const addresses = node.status?.addresses ?? [];
  for (const type of PREFERRED_ADDRESS_TYPES) {
    const hit = addresses.find((a) => a.type === type && a.address !== '');
    if (hit) return hit.address;
  }
  throw new UnknownStatusError(`no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(' ')}]`);
}

/** An error that is no API Status: kube-apiserver answers 500 with no reason and the error's text. */
export class UnknownStatusError extends ApiError {
  constructor(message: string) {
    super(500, 'InternalError', message);
  }

  override toStatus(): ReturnType<ApiError['toStatus']> {
    const { reason: _reason, ...status } = super.toStatus();
    return status;
  }
}

function proxy(target: string, hostPort: string, name: string, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve) => {
    let req: ClientRequest | undefined;
    const onAbort = (): void => {
      req?.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req = httpRequest(target, { method: 'GET' }, (res) => {
      const code = res.statusCode ?? 0;
      if (code >= 200 && code <= 206) {
        const stream = proxyStream(res, () => req?.destroy());
        resolve(streamed(new Response(stream.body, { status: 200, headers: { 'content-type': 'text/plain' } }), stream));
        return;
      }
      signal.removeEventListener('abort', onAbort);
      void readLimited(res).then((body) => resolve(statusResponse(kubeletError(code, body, name))));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      const why = err.code === 'ECONNREFUSED' ? `dial tcp ${hostPort}: connect: connection refused` : err.message;
      resolve(statusResponse(new UnknownStatusError(`Get "${target}": ${why}`)));
    });
    req.end();
  });
}

/** GenericHttpResponseChecker: the kubelet's error answer as the API's error. */
function kubeletError(code: number, body: string, name: string): ApiError {
  if (code === 500) return errors.internal(body);
  if (code === 400) return errors.badRequest(body);
  const reasons: Record<number, [ApiError['reason'], string]> = {
    404: ['NotFound', 'the server could not find the requested resource'],
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', body],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  const [reason, message] =
    reasons[code] ??
    (code >= 500
      ? ['InternalError', `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`]
      : ['InternalError', `the server responded with the status code ${code} but did not return more information`]);
  // NewGenericServerResponse with an empty verb: "<message> ( pods/log <name>)".
  return new ApiError(code, reason, `${message} ( pods/log ${name})`, { name, kind: 'pods/log' });
}

function readLimited(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size < MAX_ERROR_BODY) chunks.push(c.subarray(0, MAX_ERROR_BODY - size));
      size += c.length;
    });
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * The kubelet's answer as the adapter's stream source: written to the client socket with
 * backpressure (the kubelet response pauses while the socket is full), or read as the Response body
 * by an in-process msw consumer; whichever comes first.
 */
function proxyStream(upstream: IncomingMessage, abort: () => void): WatchStream {
  let mode: 'undecided' | 'web' | 'writer' = 'undecided';
  let iterator: AsyncIterator<Buffer> | undefined;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (mode === 'writer') return;
        mode = 'web';
        iterator ??= upstream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(new Uint8Array(next.value));
        } catch {
          controller.close();
        }
      },
      cancel: abort,
    },
    { highWaterMark: 0 },
  );
  return {
    // Nothing pushes lines into this stream: the bytes come from the kubelet.
    sink: { push: () => false, end: () => undefined },
    body,
    attach(writer: WatchWriter) {
      if (mode === 'web') throw new Error('pod log stream: the body is already being read');
      mode = 'writer';
      writer.onDrain(() => upstream.resume());
      upstream.on('data', (chunk: Buffer) => {
        if (!writer.write(chunk)) upstream.pause();
      });
      // A kubelet that goes away mid-stream ends the answer; upstream's copy loop stops the same way.
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        writer.end();
      };
      upstream.on('end', end);
      upstream.on('error', end);
      upstream.on('close', end);
    },
    cancel: abort,
    fail(_reason: Error) {
      abort();
    },
  };
}

