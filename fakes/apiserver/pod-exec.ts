/**
 * GET/POST /api/v1/namespaces/{ns}/pods/{name}/exec, as kube-apiserver serves it (registry/core/pod/rest
 * ExecREST and the pod strategy's ExecLocation/streamLocation): PodExecOptions from the query, the
 * container chosen or checked by the pods/log rule, the node's kubelet found the same way
 * (./pod-log.ts), and the connection upgrade proxied to the kubelet's
 * /exec/{ns}/{pod}/{container}?command=...&stdin=1... A request without an upgrade is refused.
 * pods/attach (AttachLocation) goes the same way to the kubelet's /attach/{ns}/{pod}/{container}, and
 * pods/portforward (PortForwardLocation) to /portForward/{ns}/{pod} with each of `ports` as `port`.
 * Differences: the kubelet is reached over plain HTTP, and the stream is proxied as it is
 * (kube-apiserver turns a v5 WebSocket request into SPDY towards the kubelet, and terminates kubectl's
 * SPDY-over-WebSocket port-forward tunnel). So a WebSocket and client-go's SPDY/3.1 both reach the
 * runtime's streaming server through the kubelet; any other upgrade is refused there with a 400, by
 * containerd's streaming package as by the fake's.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { proxyUpgrade, writeRawResponse } from '../../agent/server/upgrade-proxy.js';
import type { Journal } from '../journal/journal.js';
import { statusResponse } from './http-adapter.js';
import { chooseContainer, kubeletHostPort, UnknownStatusError } from './pod-log.js';
import type { ApiRegistry } from './registry.js';
import { ApiError, errors } from './status.js';

export interface PodExecContext {
  readonly registry: ApiRegistry;
  readonly journal?: Journal | undefined;
  /** The bearer token clients must present, when the server requires one. */
  readonly token?: string | undefined;
}

export interface PodExecOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
  readonly container?: string;
  readonly command: readonly string[];
}

const STREAM_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/;

/** The pod subresources whose connections are proxied to the kubelet. */
export type StreamSubresource = 'exec' | 'attach' | 'portforward';

/** The query as the parameter codec decodes PodExecOptions: a bool is false only for "0" or "false". */
export function decodePodExecQuery(query: URLSearchParams): PodExecOptions {
  const flag = (name: string): boolean => {
    const v = query.get(name);
    return v !== null && v !== '0' && v.toLowerCase() !== 'false';
  };
  const container = query.get('container');
  return {
    stdin: flag('stdin'),
    stdout: flag('stdout'),
    stderr: flag('stderr'),
    tty: flag('tty'),
    ...(container ? { container } : {}),
    command: query.getAll('command'),
  };
}

/** streamLocation for exec (or, without a command, attach): the kubelet URL, or the ApiError upstream answers with. */
export function execLocation(registry: ApiRegistry, namespace: string, name: string, opts: PodExecOptions, verb: 'exec' | 'attach' = 'exec'): URL {
  const pod = registry.get(registry.type('', 'pods'), namespace, name).object as unknown as V1Pod;
  const container = chooseContainer(pod, name, opts.container);
  // The mock's own check (kubectl refuses the same before sending): upstream lets the runtime fail it.
  if (verb === 'exec' && opts.command.length === 0) throw errors.badRequest('you must specify at least one command for the container');
  const hostPort = kubeletOf(registry, pod, name);
  const params = new URLSearchParams();
  if (opts.stdin) params.append('stdin', '1');
  if (opts.stdout) params.append('stdout', '1');
  if (opts.stderr) params.append('stderr', '1');
  if (opts.tty) params.append('tty', '1');
  for (const c of opts.command) params.append('command', c);
  const path = [namespace, name, container].map(encodeURIComponent).join('/');
  return new URL(`http://${hostPort}/${verb}/${path}?${params.toString()}`);
}

/** The pod's node's kubelet address; a pod not yet scheduled has none. */
function kubeletOf(registry: ApiRegistry, pod: V1Pod, name: string): string {
  const nodeName = pod.spec?.nodeName ?? '';
  if (nodeName === '') throw errors.badRequest(`pod ${name} does not have a host assigned`);
  return kubeletHostPort(registry, nodeName);
}

/** PortForwardLocation: each of `ports` (PodPortForwardOptions) becomes a `port` of the kubelet's /portForward. */
export function portForwardLocation(registry: ApiRegistry, namespace: string, name: string, query: URLSearchParams): URL {
  const pod = registry.get(registry.type('', 'pods'), namespace, name).object as unknown as V1Pod;
  const params = new URLSearchParams();
  for (const p of query.getAll('ports')) {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw errors.badRequest(`ports: Invalid value: ${JSON.stringify(p)}: must be a port number between 1 and 65535`);
    params.append('port', p);
  }
  const hostPort = kubeletOf(registry, pod, name);
  const path = [namespace, name].map(encodeURIComponent).join('/');
  return new URL(`http://${hostPort}/portForward/${path}${params.size > 0 ? `?${params.toString()}` : ''}`);
}

/** The kubelet URL of a streaming subresource. */
function streamLocation(registry: ApiRegistry, subresource: StreamSubresource, namespace: string, name: string, query: URLSearchParams): URL {
  if (subresource === 'portforward') return portForwardLocation(registry, namespace, name, query);
  return execLocation(registry, namespace, name, decodePodExecQuery(query), subresource);
}

function journal(ctx: PodExecContext, method: string, subresource: StreamSubresource, namespace: string, name: string, code: number): void {
  ctx.journal?.append({
    source: 'apiserver',
    kind: 'rpc',
    name: `${method.toUpperCase() === 'POST' ? 'create' : 'get'} pods/${subresource}`,
    subject: { resource: 'pods', namespace, name },
    response: { code },
  });
}

function checkMethod(method: string): void {
  const m = method.toUpperCase();
  if (m !== 'GET' && m !== 'POST') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
}

/** A pods/exec (attach, portforward) request without an upgrade (through the msw handlers): checked, then refused as upstream's proxy does. */
export function servePodExec(ctx: PodExecContext, request: Request, url: URL, namespace: string, name: string, subresource: StreamSubresource = 'exec'): Response {
  let answer: Response;
  try {
    checkMethod(request.method);
    streamLocation(ctx.registry, subresource, namespace, name, url.searchParams);
    answer = statusResponse(errors.badRequest('Upgrade request required'));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    answer = statusResponse(err);
  }
  journal(ctx, request.method, subresource, namespace, name, answer.status);
  return answer;
}

/**
 * The server's 'upgrade' listener: pods/exec, attach and portforward are proxied to the kubelet; any other upgrade gets the
 * generic 404. Errors are Status objects written on the socket before it closes.
 */
export function servePodExecUpgrade(ctx: PodExecContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  const fail = (err: ApiError): void => writeRawResponse(socket, err.code, JSON.stringify(err.toStatus()), 'application/json');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const m = STREAM_PATH.exec(url.pathname);
  if (ctx.token && req.headers.authorization !== `Bearer ${ctx.token}`) {
    fail(errors.unauthorized());
    return;
  }
  if (!m) {
    fail(errors.notFoundPath());
    return;
  }
  let namespace: string, name: string;
  try {
    [namespace, name] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
  } catch {
    fail(errors.badRequest('invalid URL escape'));
    return;
  }
  const method = req.method ?? 'GET';
  const subresource = m[3] as StreamSubresource;
  let target: URL;
  try {
    checkMethod(method);
    target = streamLocation(ctx.registry, subresource, namespace, name, url.searchParams);
  } catch (err) {
    const apiErr = err instanceof ApiError ? err : errors.internal((err as Error).message);
    journal(ctx, method, subresource, namespace, name, apiErr.code);
    fail(apiErr);
    return;
  }
  journal(ctx, method, subresource, namespace, name, 101);
  proxyUpgrade(req, socket, head, target, {
    // The API server's credentials end at the API server.
    dropHeaders: ['authorization'],
    onDialError: (err) => {
      const why = err.code === 'ECONNREFUSED' ? `dial tcp ${target.host}: connect: connection refused` : err.message;
      fail(new UnknownStatusError(`error dialing backend: ${why}`));
    },
  });
}
