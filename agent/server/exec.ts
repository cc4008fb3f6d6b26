/**
 * The kubelet's /exec endpoint (upstream pkg/kubelet/server getExec, Kubelet.GetExec and
 * kuberuntime GetExec): /exec/{namespace}/{pod}/{container} (or with the pod UID before the
 * container), `command` repeated in the query and stdin/stdout/stderr/tty as "1". The pod comes from
 * the kubelet's pods, the container from the runtime's running containers; CRI Exec gives the
 * runtime's streaming URL, to which the upgrade is proxied (./upgrade-proxy.ts).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../kuberuntime/labels.js';
import type { CriClient } from '../runtime/cri-client.js';
import { RpcError } from '../runtime/rpc-error.js';

export interface ExecHost {
  readonly cri: Pick<CriClient, 'listContainers' | 'exec'>;
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

const EXEC_PATH = /^\/exec\/([^/]+)\/([^/]+)\/(?:([^/]+)\/)?([^/]+)$/;

/** The path's parts, null when it is no exec path, 'malformed' for a bad escape. */
export function parseExecPath(pathname: string): ExecTarget | null | 'malformed' {
  const m = EXEC_PATH.exec(pathname);
  if (!m) return null;
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
  const pod = host.podByName(target.namespace, target.pod);
  if (!pod) return { status: 404, body: 'pod does not exist' };
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
    const { url } = await host.cri.exec({ containerId: container.id, cmd: query.getAll('command'), ...opts });
    return { url: new URL(url) };
  } catch (err) {
    if (err instanceof RpcError) {
      const body = `rpc error: code = ${err.kind} desc = ${err.details}`;
      // Too many pending streams: come back when the runtime's tokens (one minute) have expired.
      if (err.kind === 'ResourceExhausted') return { status: 429, body, headers: { 'Retry-After': '60' } };
      return { status: err.kind === 'NotFound' ? 404 : 500, body };
    }
    return { status: 500, body: (err as Error).message };
  }
}
