import type { ProbeResult, ProbeType } from './types.js';

/** One notification of a results cache: an entry was added or changed (never on removal). */
export interface ResultUpdate {
  readonly probeType: ProbeType;
  readonly podUid: string;
  readonly containerId: string;
  readonly result: ProbeResult;
}

export type ResultListener = (update: ResultUpdate) => void;

/**
 * Probe results by container ID for one probe type (upstream `results.Manager`): `set` notifies
 * subscribers only when the entry is new or its value changed; `remove` is silent.
 */
export class ResultsCache {
  private readonly entries = new Map<string, ProbeResult>();
  private readonly listeners = new Set<ResultListener>();

  constructor(readonly probeType: ProbeType) {}

  get(containerId: string): ProbeResult | undefined {
    return this.entries.get(containerId);
  }

  /** Stores `result`; returns the update it caused, or null when the value was already cached. */
  set(containerId: string, result: ProbeResult, podUid: string): ResultUpdate | null {
    if (this.entries.get(containerId) === result) return null;
    this.entries.set(containerId, result);
    const update: ResultUpdate = { probeType: this.probeType, podUid, containerId, result };
    for (const listener of this.listeners) listener(update);
    return update;
  }

  remove(containerId: string): void {
    this.entries.delete(containerId);
  }

  /** Subscribes to updates; returns the unsubscribe function. */
  subscribe(listener: ResultListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.entries.size;
  }
}
