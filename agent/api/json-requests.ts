import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * Plain JSON writes to the API server for the kubelet's hot paths (pod status patches): the
 * kubeconfig's credentials and TLS settings, over one keep-alive agent, without client-node's typed
 * request pipeline, fetch and model deserialization of a response the kubelet does not read. Errors
 * carry the HTTP status as `code`, like client-node's ApiException, so httpCode() reads both.
 */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Idle keep-alive connections are closed after this (the mock API server keeps them 30 s). */
const IDLE_TIMEOUT_MS = 15_000;

export class JsonApiWriter {
  private agent: HttpAgent | undefined;

  constructor(private readonly config: KubeConfig) {}

  /** Clusters reached through a proxy (kubeconfig proxy-url) are left to client-node, which speaks to proxies. */
  static handles(config: KubeConfig): boolean {
    const cluster = config.getCurrentCluster();
    return cluster !== null && !cluster.proxyUrl;
  }

  /** Sends `body` as `contentType`; resolves on 2xx, rejects with ApiRequestError (the Status message) otherwise. */
  async send(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown, contentType = 'application/json'): Promise<void> {
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    const url = new URL(cluster.server.replace(/\/+$/, '') + path);
    const options: HttpsRequestOptions = {};
    // Headers (bearer tokens, exec credentials) and TLS material, as client-node applies them per request.
    await this.config.applyToHTTPSOptions(options);
    const secure = url.protocol === 'https:';
    // Idle connections are closed before the server's keep-alive timeout can race a new request.
    this.agent ??= secure
      ? new HttpsAgent({
          keepAlive: true,
          timeout: IDLE_TIMEOUT_MS,
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
          ...(options.cert !== undefined ? { cert: options.cert } : {}),
          ...(options.key !== undefined ? { key: options.key } : {}),
          ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
          ...(options.servername !== undefined ? { servername: options.servername } : {}),
        })
      : new HttpAgent({ keepAlive: true, timeout: IDLE_TIMEOUT_MS });
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      ...(options.headers as Record<string, string> | undefined),
      accept: 'application/json',
      'content-type': contentType,
      'content-length': Buffer.byteLength(text),
    };
    const send = secure ? httpsRequest : httpRequest;
    const attempt = (): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const req = send(url, { method, headers, agent: this.agent }, (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            res.resume();
            res.on('end', resolve);
            res.on('error', reject);
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => reject(new ApiRequestError(status, `${method} ${path}: ${status} ${statusMessage(Buffer.concat(chunks).toString('utf8'))}`)));
        });
        req.on('error', (e: NodeJS.ErrnoException) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
        req.end(text);
      });
    try {
      await attempt();
    } catch (e) {
      // A kept-alive connection the server closed as the request went out: send it once more (Node's advice).
      const err = e as NodeJS.ErrnoException & { reusedSocket?: boolean };
      if (!err.reusedSocket || err.code !== 'ECONNRESET') throw e;
      await attempt();
    }
  }

  close(): void {
    this.agent?.destroy();
  }
}

/** The message of a Status body, or the body itself. */
function statusMessage(body: string): string {
  try {
    const status = JSON.parse(body) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // not JSON
  }
  return body;
}
