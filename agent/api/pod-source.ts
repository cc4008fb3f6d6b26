import { ListWatch, Watch, type V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { JsonApiWriter } from './json-requests.js';
import { JsonLineWatch } from './json-watch.js';
import type { KubeClients } from './kube-client.js';

export interface PodSourceHandlers {
  add(pod: V1Pod): void;
  update(pod: V1Pod): void;
  delete(pod: V1Pod): void;
}

/**
 * The kubelet's API pod source: an informer on pods with spec.nodeName=<node> (list, then watch from
 * the list's resourceVersion, relisting after 410). client-node's ListWatch stops on other errors, so
 * it is restarted here after a delay on the agent's clock.
 */
export class ApiPodSource {
  private informer: ListWatch<V1Pod> | undefined;
  private stopped = false;
  private restartTimer: { cancel(): void } | undefined;
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];

  constructor(
    private readonly clients: KubeClients,
    private readonly nodeName: string,
    private readonly clock: Clock,
    private readonly handlers: PodSourceHandlers,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly restartDelayMs = 1_000,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    const fieldSelector = `spec.nodeName=${this.nodeName}`;
    const list = async () => {
      const result = await this.clients.core.listPodForAllNamespaces({ fieldSelector });
      if (!this.synced) {
        this.synced = true;
        queueMicrotask(() => this.syncWaiters.splice(0).forEach((r) => r()));
      }
      return result;
    };
    // The pod watch carries every status write of every pod back: read it as plain JSON lines where
    // the cluster allows (client-node's Watch for clusters behind a proxy-url).
    const config = this.clients.config;
    const watch = JsonApiWriter.handles(config) ? new JsonLineWatch(config, this.clock) : new Watch(config);
    const informer = new ListWatch<V1Pod>('/api/v1/pods', watch, list, false, undefined, fieldSelector, {
      delayFn: (ms: number) => this.clock.sleep(ms),
    } as never);
    informer.on('add', (p) => this.handlers.add(p));
    informer.on('update', (p) => this.handlers.update(p));
    informer.on('delete', (p) => this.handlers.delete(p));
    informer.on('error', (e: unknown) => {
      if (this.stopped) return;
      this.log(`pod watch failed, restarting: ${(e as Error)?.message ?? String(e)}`);
      this.restartTimer = this.clock.setTimeout(() => void informer.start().catch(() => undefined), this.restartDelayMs);
    });
    this.informer = informer;
    await informer.start();
  }

  /** Resolves after the first successful list. */
  hasSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string, name: string): V1Pod | undefined {
    return this.informer?.get(name, namespace);
  }

  list(): readonly V1Pod[] {
    return this.informer?.list() ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    await this.informer?.stop();
  }
}
