/**
 * The wire's floor of a burst, for bench/agent.ts (pure helpers): what the burst's traffic costs with
 * no kubelet logic behind it. A burst round is recorded — every CRI call the agent made (request and
 * the fake's answer, from the fake's journal) and every pod status and Event the API server stored for
 * the burst's pods — and replayed by bench/agent-wire-floor-worker.ts through the agent's own clients
 * (CriClient over grpc-js to a server answering the recorded messages; the agent's pod informer,
 * status writer and event recorder against the mock API server), pod for pod, so the same calls,
 * writes and watch events cross the same threads. Its CPU per pod is the share of the burst's that the
 * protocols alone take.
 */
import type { JournalEntry } from '../fakes/journal/journal.js';

/** One unary CRI call as it crossed the wire: method name as in the proto ('RunPodSandbox'), request and answer. */
export interface CriExchange {
  readonly method: string;
  readonly request: unknown;
  readonly response: unknown;
}

/** An Event the kubelet wrote about a pod, without the parts the recorder fills in itself. */
export interface PodEventRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly fieldPath?: string;
}

/** What one floor pod replays: its share of the CRI calls, then its status writes in order; its events on the side. */
export interface FloorPodJob {
  readonly name: string;
  readonly calls: readonly { readonly method: string; readonly request: unknown }[];
  readonly statuses: readonly Record<string, unknown>[];
  readonly events: readonly PodEventRecord[];
}

/** The successful CRI calls among journal entries (failed ones carry no answer to replay), in journal order. */
export function criExchanges(entries: readonly JournalEntry[]): CriExchange[] {
  const out: CriExchange[] = [];
  for (const e of entries) {
    if (e.source !== 'cri' || e.kind !== 'rpc' || e.error !== undefined || e.response === undefined) continue;
    out.push({ method: e.name, request: e.request ?? {}, response: e.response });
  }
  return out;
}

/** Splits `items` into `parts` consecutive slices whose sizes differ by at most one (the larger ones first). */
export function shareOut<T>(items: readonly T[], parts: number): T[][] {
  if (!Number.isInteger(parts) || parts < 1) throw new RangeError(`shareOut: parts must be a positive integer, got ${parts}`);
  const base = Math.floor(items.length / parts);
  const extra = items.length % parts;
  const out: T[][] = [];
  let from = 0;
  for (let i = 0; i < parts; i++) {
    const size = base + (i < extra ? 1 : 0);
    out.push(items.slice(from, from + size));
    from += size;
  }
  return out;
}

/** What the API server stored for one burst pod during the round: each status written, and its Events. */
export interface RecordedPodWrites {
  statuses: Record<string, unknown>[];
  events: PodEventRecord[];
}

/** A store change as bench/agent.ts sees it (resource, type, the object after the change). */
export interface ObservedChange {
  readonly resource: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: {
    readonly metadata?: { readonly name?: string };
    readonly status?: unknown;
    readonly involvedObject?: { readonly kind?: string; readonly name?: string; readonly fieldPath?: string };
    readonly type?: string;
    readonly reason?: string;
    readonly message?: string;
  };
}

/**
 * Adds one store change to `writes` (by pod name) when it is a status write of one of `pods` (a
 * MODIFIED pod) or a new Event about one of them; everything else is left out.
 */
export function recordWrite(writes: Map<string, RecordedPodWrites>, pods: ReadonlySet<string>, change: ObservedChange): void {
  const o = change.object;
  if (change.resource === 'pods' && change.type === 'MODIFIED') {
    const name = o.metadata?.name ?? '';
    if (!pods.has(name) || o.status === null || typeof o.status !== 'object') return;
    entryFor(writes, name).statuses.push(o.status as Record<string, unknown>);
  } else if (change.resource === 'events' && change.type === 'ADDED') {
    const about = o.involvedObject;
    if (about?.kind !== 'Pod' || !pods.has(about.name ?? '')) return;
    entryFor(writes, about.name!).events.push({
      type: o.type === 'Warning' ? 'Warning' : 'Normal',
      reason: o.reason ?? '',
      message: o.message ?? '',
      ...(about.fieldPath ? { fieldPath: about.fieldPath } : {}),
    });
  }
}

function entryFor(writes: Map<string, RecordedPodWrites>, name: string): RecordedPodWrites {
  let entry = writes.get(name);
  if (!entry) writes.set(name, (entry = { statuses: [], events: [] }));
  return entry;
}

/**
 * One job per burst pod (the i-th floor pod replays the i-th burst pod's writes), the recorded CRI
 * calls shared out among them in journal order.
 */
export function floorJobs(
  burstPods: readonly string[],
  floorName: (i: number) => string,
  exchanges: readonly CriExchange[],
  writes: ReadonlyMap<string, RecordedPodWrites>,
): FloorPodJob[] {
  const calls = shareOut(
    exchanges.map((x) => ({ method: x.method, request: x.request })),
    Math.max(1, burstPods.length),
  );
  return burstPods.map((pod, i) => ({
    name: floorName(i),
    calls: calls[i] ?? [],
    statuses: writes.get(pod)?.statuses ?? [],
    events: writes.get(pod)?.events ?? [],
  }));
}

/** The recorded answers by method, for the floor's server to give in turn. */
export function answersByMethod(exchanges: readonly CriExchange[]): Map<string, unknown[]> {
  const out = new Map<string, unknown[]>();
  for (const x of exchanges) {
    let list = out.get(x.method);
    if (!list) out.set(x.method, (list = []));
    list.push(x.response);
  }
  return out;
}

/**
 * Pods per second that CPU alone allows on `cores` idle cores: each JavaScript thread is one core at
 * most, so the busiest one bounds the rate; so does the whole process's CPU (helper threads included)
 * spread over every core.
 */
export function cpuCeiling(threadMsPerPod: readonly number[], processMsPerPod: number, cores: number): number {
  const busiest = Math.max(...threadMsPerPod);
  if (!(busiest > 0) || !(processMsPerPod > 0) || !(cores > 0)) throw new RangeError('cpuCeiling: CPU per pod and cores must be positive');
  return Math.min(1000 / busiest, (1000 * cores) / processMsPerPod);
}
