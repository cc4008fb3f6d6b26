import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import { illegalContainerTransition, mergeForUpdate, statusKey, statusToJson } from './merge.js';
import { limitTerminationMessages } from '../kuberuntime/termination-message.js';

/** Where statuses go: the API server (./api writer) or nowhere (static pods without an API). */
export interface PodStatusWriter {
  /** Writes pod.status; resolves false when the pod no longer exists (or has another UID). */
  patchStatus(namespace: string, name: string, uid: string, status: Record<string, unknown>): Promise<boolean>;
  /** Deletes the pod object with grace period 0 and a UID precondition. */
  deletePod(namespace: string, name: string, uid: string): Promise<void>;
}

interface Entry {
  pod: V1Pod;
  status: V1PodStatus;
  /** statusKey(status), to tell an unchanged status without comparing trees. */
  key: string;
  version: number;
  syncedVersion: number;
  syncing: boolean;
  retry: TimerHandle | undefined;
}

/** Retry delay after a failed status write (upstream syncPeriod is 10 s). */
export const STATUS_RETRY_MS = 10_000;

/**
 * Status writes in flight at once across all pods. Upstream writes from one goroutine, one pod after
 * the other, so statuses that change while others are being written are written once, latest first
 * come: a few writers keep that coalescing under a burst without delaying a lone pod's write.
 */
export const STATUS_WRITERS = 4;

/**
 * The kubelet's status manager: the source of truth for each pod's last generated status, published
 * to the API asynchronously (one write in flight per pod, latest status wins), retried on the clock.
 */
export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Set<() => void>();
  /** Pods with a status to write, oldest request first (a pod keeps its place when it changes again). */
  private readonly queue = new Set<string>();
  private writing = 0;

  constructor(
    private readonly writer: PodStatusWriter | null,
    private readonly clock: Clock,
    private readonly metrics?: KubeletMetrics,
    private readonly log: (msg: string) => void = () => undefined,
  ) {}

  getPodStatus(uid: string): V1PodStatus | undefined {
    return this.entries.get(uid)?.status;
  }

  /** Caches `status` (after transition-time bookkeeping) and publishes it if it changed. */
  setPodStatus(pod: V1Pod, statusIn: V1PodStatus): void {
    // The pod's termination messages share one budget (upstream normalizeStatus).
    const status = limitTerminationMessages(pod, statusIn);
    const uid = pod.metadata?.uid ?? '';
    const entry = this.entries.get(uid);
    const old = entry?.status ?? pod.status;
    const bad = illegalContainerTransition(pod, old, status);
    if (bad) {
      this.log(`status for pod ${pod.metadata?.namespace}/${pod.metadata?.name}: refusing a terminated container ${bad} becoming non-terminated`);
      return;
    }
    const merged = mergeForUpdate(old, status, this.clock.now());
    const key = statusKey(merged);
    if (entry) {
      entry.pod = pod;
      if (entry.key === key) return;
      entry.status = merged;
      entry.key = key;
      entry.version++;
    } else {
      this.entries.set(uid, { pod, status: merged, key, version: 1, syncedVersion: 0, syncing: false, retry: undefined });
    }
    this.kick(uid);
  }

  /** Forgets a pod (after its object is gone). */
  removePod(uid: string): void {
    const e = this.entries.get(uid);
    e?.retry?.cancel();
    this.entries.delete(uid);
    this.queue.delete(uid);
  }

  /** Deletes the API object of a finished pod whose resources are all released. */
  async deletePodObject(pod: V1Pod): Promise<void> {
    if (!this.writer) return;
    await this.writer.deletePod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', pod.metadata?.uid ?? '');
  }

  /** True when every cached status has been written (tests and shutdown). */
  settled(): boolean {
    for (const e of this.entries.values()) if (e.syncing || e.syncedVersion !== e.version) return false;
    return true;
  }

  /**
   * Resolves once the pod's latest status has been written, or after `timeoutMs` (a pod must not wait
   * forever on an unreachable API server before its object is deleted).
   */
  async whenPodSettled(uid: string, timeoutMs = 5_000): Promise<void> {
    const deadline = this.clock.monotonic() + timeoutMs;
    for (;;) {
      const e = this.entries.get(uid);
      if (!e || !this.writer || (!e.syncing && e.syncedVersion === e.version)) return;
      if (this.clock.monotonic() >= deadline) return;
      await this.clock.sleep(10);
    }
  }

  /** Resolves once settled(). */
  async whenSettled(): Promise<void> {
    if (this.settled() || !this.writer) return;
    await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  private kick(uid: string): void {
    const e = this.entries.get(uid);
    if (!e || e.syncing || !this.writer) return;
    if (e.syncedVersion === e.version) return;
    e.retry?.cancel();
    e.retry = undefined;
    this.queue.add(uid);
    this.pump();
  }

  /** Starts queued writes while writers are free; each writes the pod's latest status when it starts. */
  private pump(): void {
    for (const uid of this.queue) {
      if (this.writing >= STATUS_WRITERS) return;
      this.queue.delete(uid);
      const e = this.entries.get(uid);
      if (!e || e.syncing || e.syncedVersion === e.version) continue;
      this.writing++;
      void this.sync(uid, e).finally(() => {
        this.writing--;
        this.pump();
      });
    }
  }

  private async sync(uid: string, e: Entry): Promise<void> {
    if (!this.writer) return;
    e.syncing = true;
    const version = e.version;
    const started = this.clock.monotonic();
    try {
      const exists = await this.writer.patchStatus(e.pod.metadata?.namespace ?? 'default', e.pod.metadata?.name ?? '', uid, statusToJson(e.status));
      e.syncedVersion = version;
      this.metrics?.podStatusSyncDuration.observe((this.clock.monotonic() - started) / 1000);
      if (!exists) e.syncedVersion = e.version;
    } catch (err) {
      this.log(`status patch for ${e.pod.metadata?.namespace}/${e.pod.metadata?.name} failed: ${(err as Error).message}`);
      e.retry = this.clock.setTimeout(() => {
        e.retry = undefined;
        this.kick(uid);
      }, STATUS_RETRY_MS);
    } finally {
      e.syncing = false;
    }
    if (this.entries.get(uid) === e && e.syncedVersion !== e.version && !e.retry) this.kick(uid);
    // settled() looks at every pod: only worth it while someone waits (after each write of a burst it
    // made the writes quadratic in the pods).
    if (this.waiters.size > 0 && this.settled()) {
      for (const w of [...this.waiters]) w();
      this.waiters.clear();
    }
  }
}
