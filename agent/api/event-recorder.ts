import type { CoreV1Event } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import type { EventAnnotations, EventRecorder, EventType, ObjectReference } from './events.js';
import { JsonApiWriter } from './json-requests.js';
import { httpCode, mergePatch, type KubeClients } from './kube-client.js';
import { toApiTime } from '../status/merge.js';

/**
 * Events to the API server, aggregated like client-go's recorder: the same object, reason and message
 * bump `count` and `lastTimestamp` of the existing Event instead of creating a new one. Writes are
 * queued and sent one at a time so recording never blocks the caller.
 */

/** client-go's EventCorrelator remembers this many distinct events (maxLruCacheEntries), least recently used out. */
export const EVENT_CACHE_ENTRIES = 4096;

interface SeenEvent {
  readonly name: string;
  readonly namespace: string;
  count: number;
  /** The Event as first created, to create it again if the API server no longer has it. */
  readonly body: CoreV1Event;
}
export interface EventRateLimit {
  /** eventRecordQPS: sustained writes per second; 0 = unlimited. */
  readonly qps: number;
  /** eventBurst: writes allowed at once. */
  readonly burst: number;
  /** Writes waiting beyond this are dropped (client-go's broadcaster buffers 1000). */
  readonly maxQueued?: number;
}

export class ApiEventRecorder implements EventRecorder {
  /** Insertion order is recency: a hit moves its key to the end, the first key is the one to evict. */
  private readonly seen = new Map<string, SeenEvent>();
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private seq = 0;
  private tokens: number;
  private lastRefill: number;
  dropped = 0;
  /** Events are written as plain JSON requests where possible, as status writes are (./json-requests.ts). */
  private readonly writer: JsonApiWriter | null;

  constructor(
    private readonly clients: KubeClients,
    private readonly clock: Clock,
    private readonly component: { component: string; host: string },
    private readonly log: (msg: string) => void = () => undefined,
    private readonly limit: EventRateLimit = { qps: 50, burst: 100 },
  ) {
    this.tokens = limit.burst;
    this.lastRefill = clock.monotonic();
    this.writer = clients.config !== undefined && JsonApiWriter.handles(clients.config) ? new JsonApiWriter(clients.config) : null;
  }

  /** Waits for a token of the eventRecordQPS/eventBurst bucket (on the clock). */
  private async takeToken(): Promise<void> {
    if (this.limit.qps <= 0) return;
    for (;;) {
      const now = this.clock.monotonic();
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.lastRefill) / 1000) * this.limit.qps);
      this.lastRefill = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(((1 - this.tokens) / this.limit.qps) * 1000);
    }
  }

  event(ref: ObjectReference, type: EventType, reason: string, message: string, annotations?: EventAnnotations): void {
    const namespace = ref.namespace ?? 'default';
    const key = `${ref.kind}/${namespace}/${ref.name}/${ref.uid}/${ref.fieldPath ?? ''}/${type}/${reason}/${message}`;
    const now = toApiTime(this.clock.now());
    const existing = this.seen.get(key);
    if (existing) {
      this.seen.delete(key);
      this.seen.set(key, existing);
      existing.count++;
      const { name, count } = existing;
      const patch = { count, lastTimestamp: now };
      this.enqueue(async () => {
        try {
          if (this.writer) await this.writer.send('PATCH', `${eventsPath(existing.namespace)}/${encodeURIComponent(name)}`, patch, 'application/merge-patch+json');
          else await this.clients.core.patchNamespacedEvent({ name, namespace: existing.namespace, body: patch }, mergePatch);
        } catch (e) {
          // As client-go: the Event may have expired (the API server's event TTL); create it again, counted.
          if (httpCode(e) !== 404) throw e;
          await this.create(existing.namespace, { ...existing.body, ...patch } as unknown as CoreV1Event);
        }
      });
      return;
    }
    const name = `${ref.name}.${(this.clock.now() * 1000 + (this.seq++ % 1000)).toString(16)}`;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace, ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}) },
      involvedObject: {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        name: ref.name,
        namespace: ref.kind === 'Node' ? undefined : namespace,
        uid: ref.uid,
        ...(ref.fieldPath ? { fieldPath: ref.fieldPath } : {}),
      },
      reason,
      message,
      type,
      source: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      reportingComponent: this.component.component,
      reportingInstance: this.component.host,
    } as unknown as CoreV1Event;
    this.seen.set(key, { name, namespace, count: 1, body });
    if (this.seen.size > EVENT_CACHE_ENTRIES) this.seen.delete(this.seen.keys().next().value as string);
    this.enqueue(() => this.create(namespace, body));
  }

  private async create(namespace: string, body: CoreV1Event): Promise<void> {
    if (this.writer) await this.writer.send('POST', eventsPath(namespace), body);
    else await this.clients.core.createNamespacedEvent({ namespace, body });
  }

  /** Closes the idle keep-alive connections of the event writes (after flush()). */
  close(): void {
    this.writer?.close();
  }

  /** Resolves when every queued write has been attempted. */
  flush(): Promise<void> {
    return this.queue;
  }

  private enqueue(write: () => Promise<void>): void {
    if (this.queued >= (this.limit.maxQueued ?? 1000)) {
      this.dropped++;
      return;
    }
    this.queued++;
    this.queue = this.queue
      .then(async () => {
        await this.takeToken();
        await write();
      })
      .catch((e: unknown) => {
        if (httpCode(e) !== 404) this.log(`event write failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.queued--;
      });
  }
}

function eventsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
}
