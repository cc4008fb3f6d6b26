import { ListWatch, Watch, type V1Service } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import type { KubeClients } from './kube-client.js';

/**
 * The kubelet's service informer (upstream kubelet.go serviceLister): every Service of the cluster,
 * listed then watched, for the service-link environment of containers. `list()` is null until the
 * first list succeeded (upstream serviceHasSynced), so a container is not started with half its
 * environment. client-node's ListWatch stops on errors other than 410, so it is restarted after a
 * delay on the agent's clock.
 */
export class ApiServiceLister {
  private informer: ListWatch<V1Service> | undefined;
  private synced = false;
  private stopped = false;
  private restartTimer: { cancel(): void } | undefined;

  constructor(
    private readonly clients: KubeClients,
    private readonly clock: Clock,
    private readonly log: (msg: string) => void = () => undefined,
    private readonly restartDelayMs = 1_000,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    const list = async () => {
      const result = await this.clients.core.listServiceForAllNamespaces();
      this.synced = true;
      return result;
    };
    const informer = new ListWatch<V1Service>('/api/v1/services', new Watch(this.clients.config), list, false, undefined, undefined, {
      delayFn: (ms: number) => this.clock.sleep(ms),
    } as never);
    const restart = (why: string): void => {
      if (this.stopped || this.restartTimer) return;
      this.log(`service watch failed, restarting: ${why}`);
      this.restartTimer = this.clock.setTimeout(() => {
        this.restartTimer = undefined;
        void informer.start().catch((e: unknown) => restart((e as Error).message));
      }, this.restartDelayMs);
    };
    informer.on('error', (e: unknown) => restart((e as Error)?.message ?? String(e)));
    this.informer = informer;
    // A failed first list is retried; pods wait (CreateContainerConfigError) until one succeeds.
    await informer.start().catch((e: unknown) => restart((e as Error).message));
  }

  /** Every service known, or null before the first successful list. */
  list(): readonly V1Service[] | null {
    return this.synced ? (this.informer?.list() ?? []) : null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.restartTimer?.cancel();
    await this.informer?.stop();
  }
}
