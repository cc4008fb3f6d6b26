import type { KubeObject } from './types.js';

/**
 * The object store: every resource's objects, one global monotonic resourceVersion, and a bounded
 * history of changes for watches to resume from. Pure (no I/O, no timers); objects handed to it are
 * owned by it and never mutated again, so their JSON is serialized at most once and shared by every
 * watcher and reader.
 */
export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class StoredObject {
  private cachedJson: string | undefined;
  private cachedLines: Map<string, Buffer> | undefined;
  constructor(
    readonly object: KubeObject,
    readonly rv: number,
  ) {}

  /** The object's JSON, serialized once. */
  json(): string {
    this.cachedJson ??= JSON.stringify(this.object);
    return this.cachedJson;
  }

  /** The watch event line `{"type":…,"object":…}\n` as bytes, encoded once and shared by every watcher. */
  eventLine(type: ChangeType): Buffer {
    this.cachedLines ??= new Map();
    let line = this.cachedLines.get(type);
    if (!line) {
      line = Buffer.from(`{"type":"${type}","object":${this.json()}}\n`);
      this.cachedLines.set(type, line);
    }
    return line;
  }

  get namespace(): string {
    return this.object.metadata.namespace ?? '';
  }

  get name(): string {
    return this.object.metadata.name ?? '';
  }
}

export interface StoreChange {
  readonly type: ChangeType;
  /** resourceKey() of the object's type. */
  readonly resource: string;
  readonly rv: number;
  /** The object after the change (for DELETED: its last state, carrying the deletion's resourceVersion). */
  readonly current: StoredObject;
  /** The object before the change (MODIFIED and DELETED). */
  readonly previous?: StoredObject;
}

export type ChangeListener = (change: StoreChange) => void;

/** Thrown by changesSince when the requested resourceVersion is older than the retained window. */
export class TooOldResourceVersion extends Error {
  constructor(
    readonly requested: number,
    readonly oldestAvailable: number,
  ) {
    super(`too old resource version: ${requested} (${oldestAvailable})`);
    this.name = 'TooOldResourceVersion';
  }
}

export interface StoreOptions {
  /** How many changes are kept for watches to resume from (kube-apiserver's watch cache window). */
  historyLimit?: number;
  /** First resourceVersion handed out minus one. */
  initialResourceVersion?: number;
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class ObjectStore {
  private rv: number;
  private readonly byResource = new Map<string, Map<string, StoredObject>>();
  /** Ring of recent changes in resourceVersion order. */
  private history: StoreChange[] = [];
  private historyStart = 0;
  /** Every change with rv <= compactedThrough is gone from history. */
  private compactedThrough: number;
  private readonly historyLimit: number;
  private readonly listeners = new Set<ChangeListener>();

  constructor(options: StoreOptions = {}) {
    this.rv = options.initialResourceVersion ?? 100;
    this.compactedThrough = this.rv;
    this.historyLimit = Math.max(1, options.historyLimit ?? 2_000);
  }

  get resourceVersion(): number {
    return this.rv;
  }

  /** Oldest resourceVersion a watch may still resume from. */
  get oldestResumable(): number {
    return this.compactedThrough;
  }

  get(resource: string, namespace: string, name: string): StoredObject | undefined {
    return this.byResource.get(resource)?.get(objectKey(namespace, name));
  }

  /** Objects of one type (optionally one namespace), ordered by namespace then name as kube lists them. */
  list(resource: string, namespace?: string): StoredObject[] {
    const all = this.byResource.get(resource);
    if (!all) return [];
    const out: StoredObject[] = [];
    for (const stored of all.values()) {
      if (namespace === undefined || namespace === '' || stored.namespace === namespace) out.push(stored);
    }
    out.sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
    return out;
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.size ?? 0;
  }

  /** Stores a new object; `build` receives the resourceVersion it will carry. */
  create(resource: string, build: (rv: number) => KubeObject): StoredObject {
    const rv = this.rv + 1;
    const stored = new StoredObject(build(rv), rv);
    const key = objectKey(stored.namespace, stored.name);
    let objects = this.byResource.get(resource);
    if (!objects) {
      objects = new Map();
      this.byResource.set(resource, objects);
    }
    if (objects.has(key)) throw new Error(`store: ${resource} ${key} already exists`);
    this.rv = rv;
    objects.set(key, stored);
    this.record({ type: 'ADDED', resource, rv, current: stored });
    return stored;
  }

  /** Replaces an existing object; `build` receives the resourceVersion it will carry. */
  replace(resource: string, namespace: string, name: string, build: (rv: number) => KubeObject): StoredObject {
    const key = objectKey(namespace, name);
    const objects = this.byResource.get(resource);
    const previous = objects?.get(key);
    if (!objects || !previous) throw new Error(`store: ${resource} ${key} does not exist`);
    const rv = this.rv + 1;
    const stored = new StoredObject(build(rv), rv);
    this.rv = rv;
    objects.set(key, stored);
    this.record({ type: 'MODIFIED', resource, rv, current: stored, previous });
    return stored;
  }

  /** Removes an object; the DELETED change carries its last state with a fresh resourceVersion. */
  remove(resource: string, namespace: string, name: string, build: (rv: number) => KubeObject): StoredObject {
    const key = objectKey(namespace, name);
    const objects = this.byResource.get(resource);
    const previous = objects?.get(key);
    if (!objects || !previous) throw new Error(`store: ${resource} ${key} does not exist`);
    const rv = this.rv + 1;
    const stored = new StoredObject(build(rv), rv);
    this.rv = rv;
    objects.delete(key);
    this.record({ type: 'DELETED', resource, rv, current: stored, previous });
    return stored;
  }

  /** Changes with rv > `since`, oldest first; throws TooOldResourceVersion when some were compacted. */
  changesSince(since: number): StoreChange[] {
    if (since < this.compactedThrough) throw new TooOldResourceVersion(since, this.compactedThrough + 1);
    const out: StoreChange[] = [];
    for (let i = this.historyStart; i < this.history.length; i++) {
      const change = this.history[i] as StoreChange;
      if (change.rv > since) out.push(change);
    }
    return out;
  }

  /** Drops the whole retained history: every watch resuming from an older resourceVersion gets 410. */
  compact(): void {
    this.history = [];
    this.historyStart = 0;
    this.compactedThrough = this.rv;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(change: StoreChange): void {
    this.history.push(change);
    const retained = this.history.length - this.historyStart;
    if (retained > this.historyLimit) {
      const dropped = this.history[this.historyStart] as StoreChange;
      this.compactedThrough = dropped.rv;
      this.historyStart++;
      // Reclaim the dropped prefix in batches so trimming stays O(1) amortized.
      if (this.historyStart >= this.historyLimit) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const listener of this.listeners) listener(change);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
