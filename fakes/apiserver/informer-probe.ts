import { ListWatch, Watch, type KubeConfig, type KubernetesObject, type ListPromise } from '@kubernetes/client-node';
import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';

/**
 * A client-node informer (ListWatch) instrumented for tests of the mock API server: it records every
 * raw watch event and every (re)connection and list, restarts itself after errors the way
 * applications must (client-node stops an informer on a non-410 error), and snapshots its cache.
 */
export interface ObservedEvent {
  connection: number;
  type: string;
  key: string;
  resourceVersion: string;
}

export interface ObservedConnection {
  /** resourceVersion the watch resumed from ('' never happens with ListWatch: it lists first). */
  resourceVersion: string;
}

class RecordingWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly probe: InformerProbe<KubernetesObject>,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const connection = this.probe.connections.length;
    this.probe.connections.push({ resourceVersion: String(queryParams['resourceVersion'] ?? '') });
    return super.watch(
      path,
      queryParams,
      (phase, obj: KubernetesObject) => {
        const meta = obj.metadata ?? {};
        this.probe.events.push({
          connection,
          type: phase,
          key: `${meta.namespace ?? ''}/${meta.name ?? ''}`,
          resourceVersion: meta.resourceVersion ?? '',
        });
        callback(phase, obj);
      },
      done,
    );
  }
}

export class InformerProbe<T extends KubernetesObject> {
  readonly events: ObservedEvent[] = [];
  readonly connections: ObservedConnection[] = [];
  readonly errors: unknown[] = [];
  lists = 0;
  readonly informer: ListWatch<T>;
  private stopped = false;
  private restartPending = false;

  constructor(
    kc: KubeConfig,
    path: string,
    list: ListPromise<T>,
    private readonly options: { clock?: Clock; restartDelayMs?: number; maxReconnectDelayMs?: number } = {},
  ) {
    const clock = options.clock ?? realClock;
    const counted: ListPromise<T> = () => {
      this.lists++;
      return list();
    };
    // client-node backs off 1 s, 2 s, 4 s... between reconnects without events; tests may cap that.
    const cap = options.maxReconnectDelayMs;
    const delayFn = cap === undefined ? undefined : (ms: number): Promise<void> => clock.sleep(Math.min(ms, cap));
    this.informer = new ListWatch<T>(
      path,
      new RecordingWatch(kc, this as unknown as InformerProbe<KubernetesObject>),
      counted,
      false,
      undefined,
      undefined,
      delayFn ? { delayFn } : undefined,
    );
    this.informer.on('error', (err) => {
      this.errors.push(err);
      if (this.stopped || this.restartPending) return;
      this.restartPending = true;
      clock.setTimeout(() => {
        this.restartPending = false;
        if (!this.stopped) void this.informer.start();
      }, this.options.restartDelayMs ?? 50);
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.informer.stop();
  }

  /** namespace/name → resourceVersion of everything in the informer's cache. */
  cache(): Map<string, string> {
    const out = new Map<string, string>();
    for (const obj of this.informer.list()) {
      out.set(`${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`, obj.metadata?.resourceVersion ?? '');
    }
    return out;
  }

  /** Object events (ADDED/MODIFIED/DELETED) delivered more than once, by type/key/resourceVersion. */
  duplicates(): ObservedEvent[] {
    const seen = new Set<string>();
    const dups: ObservedEvent[] = [];
    for (const e of this.events) {
      if (e.type !== 'ADDED' && e.type !== 'MODIFIED' && e.type !== 'DELETED') continue;
      const id = `${e.type} ${e.key} ${e.resourceVersion}`;
      if (seen.has(id)) dups.push(e);
      seen.add(id);
    }
    return dups;
  }

  /** Connections whose events did not arrive in strictly increasing resourceVersion order. */
  outOfOrder(): number[] {
    const last = new Map<number, number>();
    const bad = new Set<number>();
    for (const e of this.events) {
      if (e.type === 'ERROR') continue;
      const rv = Number(e.resourceVersion);
      const prev = last.get(e.connection);
      if (prev !== undefined && rv <= prev && e.type !== 'BOOKMARK') bad.add(e.connection);
      last.set(e.connection, rv);
    }
    return [...bad];
  }
}
