/**
 * The kubelet's /portForward endpoint (upstream pkg/kubelet/server getPortForward and kuberuntime
 * GetPortForward): /portForward/{namespace}/{pod} or with the pod UID after it, the ports in `port`
 * query parameters (a WebSocket request must name them). The pod comes from the kubelet's pods, its
 * sandbox from the runtime (the newest with the pod's UID label); CRI PortForward gives the runtime's
 * streaming URL, to which the upgrade is proxied.
 */
import { POD_UID_LABEL } from '../kuberuntime/labels.js';
import { criErrorAnswer, type ExecHost, type ExecUrlAnswer } from './exec.js';

export interface PortForwardTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
}

const PORT_FORWARD_PATH = /^\/portForward\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/;

/** The path's parts, null when it is no port-forward path, 'malformed' for a bad escape. */
export function parsePortForwardPath(pathname: string): PortForwardTarget | null | 'malformed' {
  const m = PORT_FORWARD_PATH.exec(pathname);
  if (!m) return null;
  try {
    const [namespace, pod, uid] = [m[1]!, m[2]!, m[3]].map((s) => (s === undefined ? undefined : decodeURIComponent(s)));
    return { namespace: namespace!, pod: pod!, ...(uid !== undefined ? { uid } : {}) };
  } catch {
    return 'malformed';
  }
}

/**
 * The runtime's port-forward URL for the pod, or the kubelet's error answer (400 ports, 404 pod, CRI
 * errors). Only a WebSocket request names its ports up front; a SPDY client names each in its streams.
 */
export async function portForwardUrl(host: ExecHost, target: PortForwardTarget, query: URLSearchParams, websocket = true): Promise<ExecUrlAnswer> {
  const ports = websocket ? parsePortQuery(query) : [];
  if ('error' in ports) return { status: 400, body: ports.error };
  const pod = host.podByName(target.namespace, target.pod);
  if (!pod) return { status: 404, body: 'pod does not exist' };
  const uid = pod.metadata?.uid ?? '';
  if (target.uid !== undefined && target.uid !== uid) return { status: 404, body: 'pod not found' };
  try {
    const { items } = await host.cri.listPodSandbox({ filter: { labelSelector: { [POD_UID_LABEL]: uid } } });
    const newest = [...items].sort((a, b) => (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : -1))[0];
    if (!newest) return { status: 500, body: `failed to find sandboxID for pod ${uid}` };
    const { url } = await host.cri.portForward({ podSandboxId: newest.id, port: ports });
    return { url: new URL(url) };
  } catch (err) {
    return criErrorAnswer(err);
  }
}

/**
 * The kubelet's NewV4Options for a WebSocket request: `port` repeated and/or comma-separated, each
 * 1-65535; at least one.
 */
export function parsePortQuery(query: URLSearchParams): number[] | { error: string } {
  const values = query.getAll('port');
  if (values.length === 0) return { error: 'query parameter "port" is required' };
  const ports: number[] = [];
  for (const value of values) {
    if (value === '') return { error: 'query parameter "port" cannot be empty' };
    for (const p of value.split(',')) {
      if (!/^\d+$/.test(p) || Number(p) > 65535) return { error: `unable to parse ${JSON.stringify(value)} as a port` };
      if (Number(p) < 1) return { error: `port ${JSON.stringify(value)} must be > 0` };
      ports.push(Number(p));
    }
  }
  return ports;
}
