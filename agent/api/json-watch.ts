import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { realClock } from '../clock/real-clock.js';

/**
 * client-node's Watch contract (what its ListWatch informer drives) over plain node:http(s): the watch
 * stream read as newline-delimited JSON straight from the socket. client-node's own Watch goes through
 * undici's fetch, a web stream adapted back to a Node stream, readline and a new timer per chunk, which
 * under a burst of pods cost the agent more than the informer's own work on each event. Same
 * behaviour otherwise: the kubeconfig's credentials and TLS settings, an error carrying `statusCode`
 * for a non-200 answer (410 makes the informer relist), a TimeoutError after `timeoutMs` without data
 * (the informer resumes at once), `done` called once when the stream ends, fails or is aborted.
 */
export class JsonLineWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly clock: Clock = realClock,
    private readonly timeoutMs = 30_000,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = new AbortController();
    let finished = false;
    let timer: TimerHandle | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      timer?.cancel();
      if (!controller.signal.aborted) controller.abort();
      done(err);
    };
    try {
      const cluster = this.config.getCurrentCluster();
      if (!cluster) throw new Error('No currently active cluster');
      const url = new URL(cluster.server.replace(/\/+$/, '') + path);
      url.searchParams.set('watch', 'true');
      for (const [key, value] of Object.entries(queryParams)) if (value !== undefined) url.searchParams.set(key, String(value));
      // Headers (tokens, exec credentials) and TLS material (ca, client certificate, servername), as client-node applies them.
      const options: HttpsRequestOptions = {};
      await this.config.applyToHTTPSOptions(options);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      // One connection of its own for the life of the stream (no pool to return it to).
      const req = send(url, { ...options, method: 'GET', headers: { ...(options.headers as Record<string, string> | undefined), accept: 'application/json' }, agent: false, signal: controller.signal });
      // Inactivity timeout, re-armed only when it fires early rather than on every chunk.
      let lastData = this.clock.monotonic();
      const arm = (ms: number): void => {
        timer = this.clock.setTimeout(() => {
          const idle = this.clock.monotonic() - lastData;
          if (idle < this.timeoutMs) return arm(this.timeoutMs - idle);
          finish(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
        }, ms);
      };
      arm(this.timeoutMs);
      req.on('error', (e) => finish(controller.signal.aborted && !finished ? null : e));
      req.on('response', (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          const error = Object.assign(new Error(res.statusMessage || `HTTP ${res.statusCode}`), { statusCode: res.statusCode });
          finish(error);
          return;
        }
        lastData = this.clock.monotonic();
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          lastData = this.clock.monotonic();
          pending += chunk;
          let from = 0;
          for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', from)) {
            const line = pending.slice(from, nl);
            from = nl + 1;
            if (line.trim() === '') continue;
            let event: { type?: unknown; object?: unknown };
            try {
              event = JSON.parse(line) as { type?: unknown; object?: unknown };
            } catch {
              continue; // as client-node: a line that is not JSON is skipped
            }
            callback(String(event.type), event.object, event);
          }
          pending = pending.slice(from);
        });
        res.on('end', () => finish(null));
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(null));
      });
      req.end();
    } catch (e) {
      finish(e);
    }
    return controller;
  }
}
