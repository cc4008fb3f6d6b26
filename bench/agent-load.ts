/**
 * The load side of bench/agent.ts over plain keep-alive HTTP: pod creation and a watch that tells when
 * a pod first shows every container running. It shares the main thread with the mock API server and
 * the fake CRI, so it is kept cheap (client-node's models, fetch and informer cost more than the API
 * server's own handling of the same requests); the agent itself uses client-node as before.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import type { V1Pod } from '@kubernetes/client-node';

export function allRunning(p: V1Pod): boolean {
  const cs = p.status?.containerStatuses ?? [];
  return p.status?.phase === 'Running' && cs.length > 0 && cs.every((c) => c.state?.running !== undefined);
}

/** JSON requests to one plain-http API server over a pool of keep-alive connections. */
export class LoadClient {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly base: URL;

  constructor(serverUrl: string) {
    this.base = new URL(serverUrl);
    if (this.base.protocol !== 'http:') throw new Error(`the load client speaks plain http, got ${serverUrl}`);
  }

  /** POSTs `body` as JSON; rejects on a status other than 201 with the server's message. */
  create(path: string, body: unknown): Promise<void> {
    const text = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`POST ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  /** DELETEs `path`; resolves on 200/202, or 404 (already gone). */
  delete(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request({ host: this.base.hostname, port: this.base.port, path, method: 'DELETE', agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ([200, 202, 404].includes(res.statusCode ?? 0) ? resolve() : reject(new Error(`DELETE ${path}: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * Streams a watch (`path` with watch=true), calling `onObject` with each event's object until `stop`;
   * lines for which `wanted(line)` is false are skipped unparsed (the load shares the API server's thread).
   */
  watch(path: string, onObject: (type: string, object: V1Pod) => void, wanted: (line: string) => boolean = () => true): { stop(): void; started: Promise<void> } {
    let response: IncomingMessage | undefined;
    const req = request({ host: this.base.hostname, port: this.base.port, path, method: 'GET' });
    const started = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        response = res;
        if (res.statusCode !== 200) return reject(new Error(`watch ${path}: ${res.statusCode}`));
        let rest = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) {
            if (line === '' || !wanted(line)) continue;
            const event = JSON.parse(line) as { type: string; object: V1Pod };
            onObject(event.type, event.object);
          }
        });
        resolve();
      });
      req.on('error', reject);
    });
    req.end();
    return {
      started,
      stop: () => {
        response?.destroy();
        req.destroy();
      },
    };
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * Resolves waiters when a pod (by name) first shows every container running, or when its object is
 * gone, from one watch on all pods.
 */
export class RunningWatcher {
  private readonly waiters = new Map<string, () => void>();
  private readonly done = new Set<string>();
  private readonly goneWaiters = new Map<string, () => void>();
  private stream: { stop(): void } | undefined;

  constructor(private readonly client: LoadClient) {}

  async start(): Promise<void> {
    const stream = this.client.watch(
      '/api/v1/pods?watch=true&allowWatchBookmarks=false',
      (type, p) => {
        const name = p.metadata?.name ?? '';
        if (type === 'DELETED') {
          this.done.delete(name);
          this.goneWaiters.get(name)?.();
          this.goneWaiters.delete(name);
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        if (this.done.has(name) || !allRunning(p)) return;
        this.done.add(name);
        this.waiters.get(name)?.();
        this.waiters.delete(name);
      },
      // Most events are of pods not running yet: only a deletion or a line naming the Running phase can matter.
      (line) => line.startsWith('{"type":"DELETED"') || line.includes('"phase":"Running"'),
    );
    this.stream = stream;
    await stream.started;
  }

  running(name: string): Promise<void> {
    if (this.done.has(name)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(name, resolve));
  }

  /** Resolves when the watch reports the pod's object deleted (register before deleting it). */
  gone(name: string): Promise<void> {
    return new Promise((resolve) => this.goneWaiters.set(name, resolve));
  }

  stop(): void {
    this.stream?.stop();
  }
}
