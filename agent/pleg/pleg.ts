import type { Clock, TimerHandle } from '../clock/clock.js';
import { POD_UID_LABEL } from '../kuberuntime/labels.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import type { CriClient } from '../runtime/cri-client.js';
import { criContainerState, criSandboxState, relistDiff, type PlegEvent, type PlegState, type RelistSnapshot } from './relist-diff.js';

/** One pod in the PLEG's last relist. */
export interface PodRelistView {
  readonly states: ReadonlyMap<string, PlegState>;
  /** Monotonic ms by which that relist had the runtime's answers: it shows nothing newer. */
  readonly at: number;
}

/** Fixed relist period of the generic PLEG (not configurable upstream). */
export const PLEG_RELIST_PERIOD_MS = 1000;
/** The PLEG is unhealthy when no relist completed for this long (upstream relistThreshold). */
export const PLEG_RELIST_THRESHOLD_MS = 3 * 60_000;

/**
 * The generic PLEG: every second it lists all sandboxes and containers, diffs them against the last
 * relist and hands the events to the pod workers, so exits are noticed without watching the runtime.
 */
export class Pleg {
  private previous: RelistSnapshot = new Map();
  /** Monotonic ms by which the relist that produced `previous` had its lists back. */
  private previousAt = 0;
  private timer: TimerHandle | undefined;
  private relisting = false;
  private lastRelistStart: number | undefined;
  private lastRelistDone: number | undefined;

  constructor(
    private readonly cri: CriClient,
    private readonly clock: Clock,
    private readonly onEvents: (events: PlegEvent[]) => void,
    private readonly metrics?: KubeletMetrics,
    private readonly onError: (e: Error) => void = () => undefined,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => void this.relist(), PLEG_RELIST_PERIOD_MS);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Whether a relist has completed since this PLEG started (its snapshot then covers every pod). */
  hasRelisted(): boolean {
    return this.lastRelistDone !== undefined;
  }

  /** Whether the last relist saw any sandbox or container of the pod. */
  sawPod(uid: string): boolean {
    return this.previous.has(uid);
  }

  /**
   * The pod's sandboxes and containers (id → state) in the last relist, and when that relist had its
   * answers (monotonic ms); undefined before the first relist.
   */
  podStates(uid: string): PodRelistView | undefined {
    if (!this.hasRelisted()) return undefined;
    return { states: this.previous.get(uid) ?? new Map(), at: this.previousAt };
  }

  /** Healthy while the last relist finished within the threshold. */
  healthy(): { ok: boolean; message: string } {
    if (this.lastRelistDone === undefined) return { ok: true, message: 'pleg has yet to be successful' };
    const age = this.clock.monotonic() - this.lastRelistDone;
    return age > PLEG_RELIST_THRESHOLD_MS
      ? { ok: false, message: `pleg was last seen active ${Math.round(age / 1000)}s ago; threshold is 3m0s` }
      : { ok: true, message: '' };
  }

  /** One relist (the timer calls it; tests may too). Overlapping calls are skipped. */
  async relist(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    const started = this.clock.monotonic();
    if (this.lastRelistStart !== undefined) this.metrics?.plegRelistInterval.observe((started - this.lastRelistStart) / 1000);
    this.lastRelistStart = started;
    try {
      const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox({}), this.cri.listContainers({})]);
      const listed = this.clock.monotonic();
      const next = new Map<string, Map<string, PlegState>>();
      const put = (uid: string | undefined, id: string, state: PlegState): void => {
        if (!uid) return;
        let m = next.get(uid);
        if (!m) next.set(uid, (m = new Map()));
        m.set(id, state);
      };
      for (const sb of sandboxes.items) put(sb.labels?.[POD_UID_LABEL], sb.id, criSandboxState(String(sb.state)));
      for (const c of containers.containers) put(c.labels?.[POD_UID_LABEL], c.id, criContainerState(String(c.state)));
      const events = relistDiff(this.previous, next);
      this.previous = next;
      this.previousAt = listed;
      this.lastRelistDone = this.clock.monotonic();
      this.metrics?.plegRelistDuration.observe((this.lastRelistDone - started) / 1000);
      if (events.length > 0) this.onEvents(events);
    } catch (e) {
      this.onError(e as Error);
    } finally {
      this.relisting = false;
    }
  }
}
