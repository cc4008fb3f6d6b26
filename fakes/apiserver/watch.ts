import type { Clock, TimerHandle } from '../../agent/clock/clock.js';
import { apiVersionOf, resourceKey, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from './selectors.js';
import { errors, type StatusObject } from './status.js';
import { TooOldResourceVersion, type ObjectStore, type StoreChange, type StoredObject } from './store.js';

/**
 * Watch semantics over the store, independent of HTTP: which events a watcher sees (selector
 * enter/leave turns MODIFIED into ADDED/DELETED as kube-apiserver does), where it starts (current
 * state for resourceVersion ""/"0", history after a given resourceVersion, ERROR 410 when that is
 * gone), bookmarks and the timeout. Output is a stream of NDJSON lines pushed to a sink.
 */
export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: StoredObject }
  | { type: 'BOOKMARK'; rv: number; initialEventsEnd?: boolean }
  | { type: 'ERROR'; status: StatusObject };

export interface WatchFilter {
  type: ResourceType;
  /** '' watches every namespace (or a cluster-scoped type). */
  namespace: string;
  labels: LabelSelector;
  fields: FieldSelector;
}

export interface WatchParams {
  resourceVersion?: string | null;
  allowBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

function matches(filter: WatchFilter, stored: StoredObject | undefined): boolean {
  if (!stored) return false;
  if (filter.type.namespaced && filter.namespace !== '' && stored.namespace !== filter.namespace) return false;
  return matchesLabels(filter.labels, stored.object.metadata.labels) && matchesFields(filter.fields, stored.object);
}

/** What one store change looks like to a watcher with this filter (undefined: not its business). */
export function translateChange(change: StoreChange, filter: WatchFilter, key = resourceKey(filter.type)): WatchEvent | undefined {
  if (change.resource !== key) return undefined;
  const now = matches(filter, change.current);
  switch (change.type) {
    case 'ADDED':
      return now ? { type: 'ADDED', object: change.current } : undefined;
    case 'DELETED':
      return matches(filter, change.previous) || now ? { type: 'DELETED', object: change.current } : undefined;
    case 'MODIFIED': {
      const before = matches(filter, change.previous);
      if (before && now) return { type: 'MODIFIED', object: change.current };
      if (now) return { type: 'ADDED', object: change.current };
      if (before) return { type: 'DELETED', object: change.current };
      return undefined;
    }
  }
}

/** Encodes objects for the wire: plain JSON, or (for kubectl) a one-row Table. */
export type ObjectEncoder = (object: StoredObject, eventIndex: number) => string;

export const plainEncoder: ObjectEncoder = (object) => object.json();

export function encodeEvent(event: WatchEvent, type: ResourceType, encode: ObjectEncoder, index: number): string | Buffer {
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      if (encode === plainEncoder) return event.object.eventLine(event.type);
      return `{"type":"${event.type}","object":${encode(event.object, index)}}\n`;
    case 'BOOKMARK': {
      const metadata: Record<string, unknown> = { resourceVersion: String(event.rv) };
      if (event.initialEventsEnd) metadata['annotations'] = { 'k8s.io/initial-events-end': 'true' };
      return `${JSON.stringify({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: apiVersionOf(type), metadata } })}\n`;
    }
    case 'ERROR':
      return `${JSON.stringify({ type: 'ERROR', object: event.status })}\n`;
  }
}

export interface WatchSink {
  /** Receives encoded lines in order; returns false when the watcher is too far behind (it is then closed). */
  push(line: string | Buffer): boolean;
  /** The server ends the watch cleanly (timeout, forced close, after an ERROR event). */
  end(): void;
}

export interface WatchSessionOptions {
  clock: Clock;
  encode?: ObjectEncoder;
  /** How often a BOOKMARK is sent when bookmarks were asked for. */
  bookmarkIntervalMs?: number;
}

/** Parses a watch's resourceVersion: undefined means "start from the current state". */
export function parseResourceVersion(raw: string | null | undefined): number | undefined {
  if (raw === undefined || raw === null || raw === '' || raw === '0') return undefined;
  if (!/^\d+$/.test(raw)) throw errors.badRequest(`invalid resource version: "${raw}"`);
  return Number(raw);
}

/** One open watch. Starts synchronously (no gap between snapshot and subscription). */
export class WatchSession {
  private unsubscribe: (() => void) | undefined;
  private timers: TimerHandle[] = [];
  private closed = false;
  private sent = 0;
  private readonly key: string;
  private readonly encode: ObjectEncoder;

  constructor(
    private readonly store: ObjectStore,
    private readonly filter: WatchFilter,
    private readonly params: WatchParams,
    private readonly sink: WatchSink,
    private readonly options: WatchSessionOptions,
  ) {
    this.key = resourceKey(filter.type);
    this.encode = options.encode ?? plainEncoder;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends the initial events (or the 410) and subscribes to further changes. */
  start(): void {
    const since = parseResourceVersion(this.params.resourceVersion);
    let initial: WatchEvent[] = [];
    if (since === undefined) {
      for (const stored of this.store.list(this.key, this.filter.type.namespaced ? this.filter.namespace : undefined)) {
        if (matches(this.filter, stored)) initial.push({ type: 'ADDED', object: stored });
      }
      if (this.params.sendInitialEvents && this.params.allowBookmarks) {
        initial.push({ type: 'BOOKMARK', rv: this.store.resourceVersion, initialEventsEnd: true });
      }
    } else {
      try {
        initial = this.store
          .changesSince(since)
          .map((c) => translateChange(c, this.filter, this.key))
          .filter((e): e is WatchEvent => e !== undefined);
      } catch (err) {
        if (!(err instanceof TooOldResourceVersion)) throw err;
        this.expire(err.message);
        return;
      }
    }
    this.unsubscribe = this.store.subscribe((change) => {
      const event = translateChange(change, this.filter, this.key);
      if (event) this.send(event);
    });
    for (const event of initial) if (!this.send(event)) return;
    const timeout = this.params.timeoutSeconds;
    if (timeout !== undefined && timeout > 0) {
      this.timers.push(this.options.clock.setTimeout(() => this.close(), timeout * 1000));
    }
    if (this.params.allowBookmarks) {
      const every = this.options.bookmarkIntervalMs ?? 15_000;
      this.timers.push(this.options.clock.setInterval(() => this.bookmark(), every));
    }
  }

  /** Sends a BOOKMARK at the store's current resourceVersion (every earlier change has been sent). */
  bookmark(): void {
    if (!this.closed && this.params.allowBookmarks) this.send({ type: 'BOOKMARK', rv: this.store.resourceVersion });
  }

  /** Sends ERROR 410 (reason Expired) and ends the stream, as for a resourceVersion out of the window. */
  expire(message = `too old resource version: ${this.params.resourceVersion ?? ''} (${this.store.oldestResumable + 1})`): void {
    if (this.closed) return;
    this.sink.push(encodeEvent({ type: 'ERROR', status: errors.expired(message).toStatus() }, this.filter.type, this.encode, this.sent++));
    this.close();
  }

  /** Ends the stream cleanly; the client resumes from its last resourceVersion. */
  close(): void {
    if (this.closed) return;
    this.detach();
    this.sink.end();
  }

  /** Stops delivering without touching the sink (the connection is already gone). */
  detach(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  private send(event: WatchEvent): boolean {
    if (this.closed) return false;
    const ok = this.sink.push(encodeEvent(event, this.filter.type, this.encode, this.sent++));
    if (!ok) this.close();
    return ok;
  }
}
