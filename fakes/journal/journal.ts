import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';

/** Which component wrote an entry. */
export type JournalSource = 'cri' | 'csi' | 'cni' | 'apiserver' | 'agent' | (string & {});

/**
 * One observable step: an RPC a fake served (`kind: 'rpc'`) or something a fake did on its own
 * (`kind: 'event'`: a scripted container exited, a probe request arrived, ...).
 */
export interface JournalEntry {
  /** Global, gap-free order of appends across every source. */
  readonly seq: number;
  /** Monotonic milliseconds of the shared clock at append time. */
  readonly t: number;
  readonly source: JournalSource;
  readonly kind: 'rpc' | 'event';
  /** RPC method (e.g. 'RunPodSandbox', 'NodePublishVolume', 'ADD') or event name (e.g. 'ContainerExited'). */
  readonly name: string;
  /** Identifiers the entry is about (podSandboxId, containerId, podUid, volumeId, ...), for queries. */
  readonly subject: Readonly<Record<string, string>>;
  readonly request?: unknown;
  readonly response?: unknown;
  readonly error?: { readonly code: string | number; readonly message: string };
}

export type JournalInput = Omit<JournalEntry, 'seq' | 't' | 'subject'> & {
  subject?: Record<string, string>;
};

export type JournalPredicate = (entry: JournalEntry) => boolean;

export interface JournalOptions {
  /**
   * How many of the newest entries stay in memory; older ones are dropped (sequence numbers keep
   * counting). Default: every entry, which suits tests and one-off runs. Long-running processes need a
   * bound: each entry keeps its request and response reachable, e.g. ~33 KiB per kubelet relist of a
   * node with 110 pods, a relist every second.
   */
  readonly retain?: number;
}

/**
 * The single ordered call journal shared by every fake. Ordering specs are happens-before assertions
 * over it, so appends are synchronous and sequence numbers are assigned in call order.
 */
export class Journal {
  /** Retained entries are log[start..]; the slots before `start` were dropped and are compacted away. */
  private log: (JournalEntry | undefined)[] = [];
  private start = 0;
  private appended = 0;
  private readonly retain: number;
  private readonly listeners = new Set<(entry: JournalEntry) => void>();

  constructor(
    private readonly clock: Clock = realClock,
    options: JournalOptions = {},
  ) {
    const retain = options.retain ?? Infinity;
    if (!(retain === Infinity || (Number.isInteger(retain) && retain > 0))) {
      throw new RangeError(`journal retain must be a positive integer (or Infinity), got ${String(options.retain)}`);
    }
    this.retain = retain;
  }

  append(input: JournalInput): JournalEntry {
    const entry: JournalEntry = Object.freeze({
      ...input,
      subject: Object.freeze({ ...(input.subject ?? {}) }),
      seq: ++this.appended,
      t: this.clock.monotonic(),
    });
    this.log.push(entry);
    if (this.log.length - this.start > this.retain) this.dropOldest();
    for (const listener of this.listeners) listener(entry);
    return entry;
  }

  private dropOldest(): void {
    this.log[this.start++] = undefined;
    // Compact once the dropped prefix outgrows the window, so each entry is copied at most once.
    if (this.start >= this.retain) {
      this.log = this.log.slice(this.start);
      this.start = 0;
    }
  }

  private get window(): JournalEntry[] {
    return (this.start === 0 ? this.log : this.log.slice(this.start)) as JournalEntry[];
  }

  /** Every retained entry, or those matching `predicate`, in order. */
  entries(predicate?: JournalPredicate): JournalEntry[] {
    return predicate ? this.window.filter(predicate) : [...this.window];
  }

  first(predicate: JournalPredicate): JournalEntry | undefined {
    for (let i = this.start; i < this.log.length; i++) {
      const entry = this.log[i]!;
      if (predicate(entry)) return entry;
    }
    return undefined;
  }

  last(predicate: JournalPredicate): JournalEntry | undefined {
    for (let i = this.log.length - 1; i >= this.start; i--) {
      const entry = this.log[i]!;
      if (predicate(entry)) return entry;
    }
    return undefined;
  }

  /** Entries appended so far: the sequence number of the newest, a bookmark for `e.seq > mark` queries. */
  get size(): number {
    return this.appended;
  }

  /** Entries dropped under the `retain` bound (0 when every entry is kept). */
  get dropped(): number {
    return this.appended - (this.log.length - this.start);
  }

  /** Calls `listener` for every entry appended from now on; returns the unsubscribe function. */
  subscribe(listener: (entry: JournalEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first entry (already present or future) that matches. */
  waitFor(predicate: JournalPredicate, signal?: AbortSignal): Promise<JournalEntry> {
    const existing = this.first(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const stop = this.subscribe((entry) => {
        if (!predicate(entry)) return;
        stop();
        resolve(entry);
      });
      signal?.addEventListener(
        'abort',
        () => {
          stop();
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** JSON lines, one entry per line, for export and for attaching to failed test reports. */
  toJsonLines(predicate?: JournalPredicate): string {
    return this.entries(predicate)
      .map(journalJsonLine)
      .join('\n');
  }
}

/** One entry as a JSON line (no newline), as toJsonLines writes it: for appending a journal to a file. */
export function journalJsonLine(entry: JournalEntry): string {
  return JSON.stringify(entry, jsonReplacer);
}

/** Buffers and bigints are not JSON; render them readably instead of throwing. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return { bytes: value.length };
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    const data = (value as { data?: unknown[] }).data;
    return { bytes: Array.isArray(data) ? data.length : 0 };
  }
  return value;
}

/** Matches entries by source and name, plus optional subject fields. */
export function match(
  source: JournalSource,
  name: string,
  subject: Record<string, string> = {},
): JournalPredicate {
  return (e) =>
    e.source === source && e.name === name && Object.entries(subject).every(([k, v]) => e.subject[k] === v);
}
