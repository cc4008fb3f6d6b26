import type { Clock, TimerHandle } from '../../agent/clock/clock.js';
import type { ObjectStore, StoreChange } from './store.js';

/**
 * kube-apiserver's --event-ttl: every write of an Event (create, update, patch) attaches a fresh etcd
 * lease of the TTL, and etcd deletes the key when the lease runs out, which watchers see as DELETED.
 * Here the deadlines live on the server's clock. The TTL is the same for every event, so deadlines
 * come in write order: a Map re-inserted on each write keeps the earliest first, and one timer suffices.
 */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

const EVENTS = 'events';

export interface EventExpiryOptions {
  store: ObjectStore;
  clock: Clock;
  ttlMs: number;
  /** Deletes one expired event (through the registry, so a terminating namespace can finish). */
  remove: (namespace: string, name: string) => void;
}

export class EventExpiry {
  /** `namespace/name` → monotonic deadline, earliest first. */
  private readonly deadlines = new Map<string, { namespace: string; name: string; due: number }>();
  private timer: TimerHandle | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: EventExpiryOptions) {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
      throw new RangeError(`eventTtlMs: must be a positive number of milliseconds, got ${String(options.ttlMs)}`);
    }
    for (const stored of options.store.list(EVENTS)) this.track(stored.namespace, stored.name);
    this.unsubscribe = options.store.subscribe((change) => this.onChange(change));
    this.arm();
  }

  /** Events waiting to expire. */
  get size(): number {
    return this.deadlines.size;
  }

  stop(): void {
    this.unsubscribe();
    this.timer?.cancel();
    this.timer = undefined;
    this.deadlines.clear();
  }

  private onChange(change: StoreChange): void {
    if (change.resource !== EVENTS) return;
    const { namespace, name } = change.current;
    if (change.type === 'DELETED') this.deadlines.delete(`${namespace}/${name}`);
    else {
      this.track(namespace, name);
      this.arm();
    }
  }

  private track(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    // Re-inserting moves the key to the end: a rewritten event's lease starts over.
    this.deadlines.delete(key);
    this.deadlines.set(key, { namespace, name, due: this.options.clock.monotonic() + this.options.ttlMs });
  }

  private arm(): void {
    if (this.timer) return;
    const first = this.deadlines.values().next();
    if (first.done) return;
    const wait = Math.max(0, first.value.due - this.options.clock.monotonic());
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.expireDue();
      this.arm();
    }, wait);
  }

  private expireDue(): void {
    const now = this.options.clock.monotonic();
    for (const [key, entry] of this.deadlines) {
      if (entry.due > now) break;
      // Forget it first: a removal that does not delete (pending finalizers) must not spin.
      this.deadlines.delete(key);
      if (!this.options.store.get(EVENTS, entry.namespace, entry.name)) continue;
      try {
        this.options.remove(entry.namespace, entry.name);
      } catch {
        // Gone meanwhile or refused: the next write of the event starts a new lease anyway.
      }
    }
  }
}
