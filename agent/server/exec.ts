/**
 * The kubelet's /exec endpoint (upstream pkg/kubelet/server getExec, Kubelet.GetExec and
 * kuberuntime GetExec): /exec/{namespace}/{pod}/{container} (or with the pod UID before the
 * container), `command` repeated in the query and stdin/stdout/stderr/tty as "1". The pod comes from
 * the kubelet's pods, the container from the runtime's running containers; CRI Exec gives the
 * runtime's streaming URL, to which the upgrade is proxied (./upgrade-proxy.ts). /attach (getAttach,
 * Kubelet.GetAttach) has the same paths and stream options, no command, and the TTY setting of the
 * container's spec; /portForward is ./port-forward.ts.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../kuberuntime/labels.js';
import type { CriClient } from '../runtime/cri-client.js';
import { RpcError } from '../runtime/rpc-error.js';

export interface ExecHost {
  readonly cri: Pick<CriClient, 'listContainers' | 'exec' | 'attach' | 'listPodSandbox' | 'portForward'>;
  /** A pod this kubelet knows by namespace and name (its pod manager). */
  podByName(namespace: string, name: string): V1Pod | undefined;
}

export interface StreamOptions {
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export interface ExecTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
  readonly container: string;
}

const CONTAINER_STREAM_PATH = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/(?:([^/]+)\/)?([^/]+)$/;

/** The path's parts, null when it is no exec (or attach) path, 'malformed' for a bad escape. */
export function parseExecPath(pathname: string, verb: 'exec' | 'attach' = 'exec'): ExecTarget | null | 'malformed' {
  const full = CONTAINER_STREAM_PATH.exec(pathname);
  if (!full || full[1] !== verb) return null;
  const m = full.slice(1);
  try {
    const [namespace, pod, uid, container] = [m[1], m[2], m[3], m[4]].map((s) => (s === undefined ? undefined : decodeURIComponent(s)));
    return { namespace: namespace!, pod: pod!, ...(uid !== undefined ? { uid } : {}), container: container! };
  } catch {
    return 'malformed';
  }
}

/** remotecommand NewOptions: only "1" turns a stream on; a TTY drops stderr; one stream at least. */
export function streamOptions(query: URLSearchParams): StreamOptions | { error: string } {
  const on = (name: string): boolean => query.get(name) === '1';
  const tty = on('tty');
  const stdin = on('stdin');
  const stdout = on('stdout');
  const stderr = on('stderr') && !tty;
  if (!stdin && !stdout && !stderr) return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  return { stdin, stdout, stderr, tty };
}

export type ExecUrlAnswer = { readonly url: URL } | { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };

/**
 * Resolves an exec request to the runtime's streaming URL, or the kubelet's error answer: 400 for the
 * options, 404 for an unknown pod, the CRI error by its code (streaming.WriteError: NotFound 404,
 * ResourceExhausted 429, anything else 500) and 500 for a container that is not running.
 */
export async function execUrl(host: ExecHost, target: ExecTarget, query: URLSearchParams): Promise<ExecUrlAnswer> {
  const opts = streamOptions(query);
  if ('error' in opts) return { status: 400, body: opts.error };
  if (!host.podByName(target.namespace, target.pod)) return { status: 404, body: 'pod does not exist' };
  return inRunningContainer(host, target, async (containerId) => (await host.cri.exec({ containerId, cmd: query.getAll('command'), ...opts })).url);
}

/**
 * Resolves an attach request as execUrl does; the TTY is the container spec's (a process's terminal
 * cannot change after it started), and a terminal has no separate stderr.
 */
export async function attachUrl(host: ExecHost, target: ExecTarget, query: URLSearchParams): Promise<ExecUrlAnswer> {
  const opts = streamOptions(query);
  if ('error' in opts) return { status: 400, body: opts.error };
  const pod = host.podByName(target.namespace, target.pod);
  if (!pod) return { status: 404, body: 'pod does not exist' };
  const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].find((c) => c.name === target.container);
  if (!spec) return { status: 500, body: `container ${target.container} not found in pod ${target.pod}_${target.namespace}` };
  const tty = spec.tty ?? false;
  const streams = { stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr && !tty, tty };
  return inRunningContainer(host, target, async (containerId) => (await host.cri.attach({ containerId, ...streams })).url);
}

/** Finds the target's running container and makes the CRI call that returns the runtime's URL. */
async function inRunningContainer(host: ExecHost, target: ExecTarget, call: (containerId: string) => Promise<string>): Promise<ExecUrlAnswer> {
  const labels: Record<string, string> = {
    [POD_NAMESPACE_LABEL]: target.namespace,
    [POD_NAME_LABEL]: target.pod,
    [CONTAINER_NAME_LABEL]: target.container,
  };
  if (target.uid) labels[POD_UID_LABEL] = target.uid;
  try {
    const running = await host.cri.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' }, labelSelector: labels } });
    const container = running.containers[0];
    if (!container) return { status: 500, body: `container not found (${JSON.stringify(target.container)})` };
    return { url: new URL(await call(container.id)) };
  } catch (err) {
    return criErrorAnswer(err);
  }
}

/** streaming.WriteError: NotFound 404, ResourceExhausted 429, anything else 500. */
export function criErrorAnswer(err: unknown): ExecUrlAnswer {
  if (err instanceof RpcError) {
    const body = `rpc error: code = ${err.kind} desc = ${err.details}`;
    // Too many pending streams: come back when the runtime's tokens (one minute) have expired.
    if (err.kind === 'ResourceExhausted') return { status: 429, body, headers: { 'Retry-After': '60' } };
    return { status: err.kind === 'NotFound' ? 404 : 500, body };
  }
  return { status: 500, body: (err as Error).message };
}
