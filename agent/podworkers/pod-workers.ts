import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';

/**
 * One worker per pod UID (upstream pkg/kubelet/pod_workers.go): syncs of a pod run one at a time and
 * always on its latest spec, while different pods proceed in parallel. A pod moves through
 * syncing → terminating (containers stopped) → terminated (resources released) → finished.
 */

export interface SyncOutcome {
  /** The pod reached a terminal phase: stop it and release its resources. */
  readonly terminal: boolean;
  /** When to sync again if nothing else asks first (ms); undefined = the resync period. */
  readonly requeueAfterMs?: number | undefined;
}

export interface PodSyncer {
  syncPod(pod: V1Pod, kind: 'create' | 'update' | 'sync'): Promise<SyncOutcome>;
  syncTerminatingPod(pod: V1Pod, gracePeriodOverride: number | undefined): Promise<void>;
  syncTerminatedPod(pod: V1Pod): Promise<void>;
  /** The pod object is being deleted and everything is released: remove it from the API. */
  finalizePod(pod: V1Pod): Promise<void>;
  /**
   * True when the runtime shows nothing about the pod that its last sync has not already acted on, so a
   * wake from the PLEG needs no sync (the PLEG reporting what the sync itself just did).
   */
  runtimeUnchanged?(pod: V1Pod): boolean;
}

export type WorkerState = 'syncing' | 'terminating' | 'terminated' | 'finished';

interface Worker {
  pod: V1Pod;
  state: WorkerState;
  pending: boolean;
  /** Some request other than a PLEG wake is pending (those always sync). */
  forced: boolean;
  running: boolean;
  kind: 'create' | 'update' | 'sync';
  gracePeriodOverride: number | undefined;
  timer: TimerHandle | undefined;
  finalized: boolean;
  /** Resolvers waiting for this worker to be idle. */
  idle: Array<() => void>;
}

export interface PodWorkersOptions {
  readonly clock: Clock;
  readonly syncer: PodSyncer;
  /** Periodic resync of a healthy pod (KubeletConfiguration.syncFrequency). */
  readonly resyncIntervalMs: number;
  /** Retry after a failed sync (upstream backOffPeriod 10 s). */
  readonly errorBackoffMs?: number;
  readonly metrics?: KubeletMetrics;
  readonly log?: (msg: string) => void;
}

function isDeleting(pod: V1Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && pod.metadata?.deletionTimestamp !== null;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private stopped = false;

  constructor(private readonly options: PodWorkersOptions) {}

  /** A pod was added or changed in the config source (API or static files). */
  updatePod(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const w = this.workers.get(uid);
    if (!w) {
      this.workers.set(uid, {
        pod,
        state: 'syncing',
        pending: true,
        forced: true,
        running: false,
        kind: 'create',
        gracePeriodOverride: undefined,
        timer: undefined,
        finalized: false,
        idle: [],
      });
      this.schedule(uid);
      return;
    }
    w.pod = pod;
    if (w.state === 'syncing') w.kind = w.kind === 'create' ? 'create' : 'update';
    this.request(uid);
  }

  /** A newer object of the pod whose changes need no sync (status only): later syncs use it. */
  refreshPod(pod: V1Pod): void {
    const w = this.workers.get(pod.metadata?.uid ?? '');
    if (w) w.pod = pod;
  }

  /** Stops the pod (eviction, rejection, removal from the config), optionally with a grace override. */
  killPod(pod: V1Pod, gracePeriodOverride?: number): void {
    const uid = pod.metadata?.uid ?? '';
    let w = this.workers.get(uid);
    if (!w) {
      this.updatePod(pod);
      w = this.workers.get(uid)!;
    }
    if (w.state === 'syncing') w.state = 'terminating';
    if (gracePeriodOverride !== undefined) w.gracePeriodOverride = gracePeriodOverride;
    this.request(uid);
  }

  /** Something changed for this pod (a probe result, its mirror pod): sync it now. */
  wake(uid: string): void {
    if (this.workers.has(uid)) this.request(uid);
  }

  /**
   * The PLEG saw the pod's containers or sandboxes change: sync it, unless by the time its worker gets
   * to it the last sync has already seen and acted on that state (syncer.runtimeUnchanged).
   */
  wakeOnRuntimeChange(uid: string): void {
    if (this.workers.has(uid)) this.request(uid, false);
  }

  /** The pod object is gone from the config source: finish it, then forget the worker. */
  forgetWhenDone(uid: string): void {
    const w = this.workers.get(uid);
    if (!w) return;
    if (w.state === 'syncing') w.state = 'terminating';
    w.finalized = true; // nothing to delete any more
    this.request(uid);
  }

  state(uid: string): WorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /** Pods whose containers may still run (not yet past terminating). */
  couldHaveRunningContainers(uid: string): boolean {
    const s = this.workers.get(uid)?.state;
    return s === 'syncing' || s === 'terminating';
  }

  uids(): string[] {
    return [...this.workers.keys()];
  }

  activeCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.state === 'syncing') n++;
    return n;
  }

  /** Resolves when the worker for `uid` has no work queued or running. */
  async idle(uid: string): Promise<void> {
    const w = this.workers.get(uid);
    if (!w || (!w.running && !w.pending)) return;
    await new Promise<void>((resolve) => w.idle.push(resolve));
  }

  /** Resolves once the pod's containers are stopped (its worker is past terminating) or it has no worker. */
  async terminated(uid: string): Promise<void> {
    while (this.couldHaveRunningContainers(uid) && !this.stopped) {
      await this.idle(uid);
      if (this.couldHaveRunningContainers(uid)) await this.options.clock.sleep(10);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.workers.values()) w.timer?.cancel();
  }

  private request(uid: string, forced = true): void {
    const w = this.workers.get(uid);
    if (!w) return;
    w.pending = true;
    if (forced) w.forced = true;
    if (!w.running) this.schedule(uid);
  }

  private requeue(uid: string, afterMs: number): void {
    const w = this.workers.get(uid);
    if (!w || this.stopped) return;
    w.timer?.cancel();
    w.timer = this.options.clock.setTimeout(() => {
      w.timer = undefined;
      w.kind = 'sync';
      this.request(uid);
    }, Math.max(0, afterMs));
  }

  private schedule(uid: string): void {
    const w = this.workers.get(uid);
    if (!w || w.running || this.stopped) return;
    w.running = true;
    void this.loop(uid, w);
  }

  private async loop(uid: string, w: Worker): Promise<void> {
    const log = this.options.log ?? (() => undefined);
    const errorBackoff = this.options.errorBackoffMs ?? 10_000;
    try {
      while (w.pending && !this.stopped) {
        w.pending = false;
        const forced = w.forced;
        w.forced = false;
        if (w.state === 'syncing' && isDeleting(w.pod)) w.state = 'terminating';
        if (w.state === 'syncing' && !forced && this.options.syncer.runtimeUnchanged?.(w.pod)) continue;
        const started = this.options.clock.monotonic();
        try {
          switch (w.state) {
            case 'syncing': {
              const kind = w.kind;
              w.kind = 'sync';
              const outcome = await this.options.syncer.syncPod(w.pod, kind);
              this.options.metrics?.podWorkerDuration.labels(kind).observe((this.options.clock.monotonic() - started) / 1000);
              if (outcome.terminal) {
                w.state = 'terminating';
                w.pending = true;
              } else {
                this.requeue(uid, outcome.requeueAfterMs ?? this.options.resyncIntervalMs);
              }
              break;
            }
            case 'terminating':
              w.timer?.cancel();
              await this.options.syncer.syncTerminatingPod(w.pod, w.gracePeriodOverride);
              w.state = 'terminated';
              w.pending = true;
              break;
            case 'terminated':
              await this.options.syncer.syncTerminatedPod(w.pod);
              w.state = 'finished';
              w.pending = true;
              break;
            case 'finished':
              if (w.finalized) {
                // Gone from the source without this worker ever seeing a deletion (the API server
                // removes terminal pods at once; force deletes): its sandbox and containers are still
                // there. Remove them, as the kubelet's container GC does for deleted pods.
                if (!isDeleting(w.pod)) await this.options.syncer.finalizePod(w.pod);
                this.workers.delete(uid);
              } else if (isDeleting(w.pod)) {
                await this.options.syncer.finalizePod(w.pod);
                w.finalized = true;
              }
              break;
          }
        } catch (e) {
          log(`pod ${w.pod.metadata?.namespace}/${w.pod.metadata?.name}: ${w.state} failed: ${(e as Error).message}`);
          this.requeue(uid, errorBackoff);
        }
      }
    } finally {
      w.running = false;
      for (const r of w.idle.splice(0)) r();
      if (w.pending && !this.stopped && this.workers.get(uid) === w) this.schedule(uid);
    }
  }
}
