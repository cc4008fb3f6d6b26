/**
 * The eviction manager (upstream eviction_manager.go `Start`/`synchronize`/`evictPod`/`Admit`): every
 * 10 s on the Clock it reads CRI stats and the machine, runs the pure evaluation (thresholds met with
 * min reclaim, grace periods, stale stats, pressure transition period), publishes the pressure
 * conditions, and when a threshold is active evicts at most one pod — the first non-critical pod of
 * the signal's ranking — through the injected killPod. After an eviction it waits (at most 30 s) for
 * the pod to be cleaned up and evaluates again at once.
 */
import type { V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { nodeRef, podRef, type EventRecorder } from '../api/events.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import type { FeatureGateOptions } from '../resources/pod-requests.js';
import { Quantity } from '../resources/quantity.js';
import { evictionAdmit, type EvictionAdmitResult } from './admission.js';
import { criStatsSummary, type EvictionMachineInfo } from './cri-stats-summary.js';
import { DEFAULT_PRESSURE_TRANSITION_PERIOD_SECONDS } from './defaults.js';
import {
  INITIAL_EVICTION_ROUND_STATE,
  evaluateEvictionRound,
  thresholdToReclaim,
  thresholdsMet,
  type EvictionRoundState,
  type SignalObservations,
} from './evaluation.js';
import { IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS, evictionGracePeriodOverride } from './grace-period.js';
import { evictionMessage } from './message.js';
import { localStorageViolation, type LocalStorageEvictionSignal } from './local-storage.js';
import type { PodDiskUsage } from './cri-stats-summary.js';
import { podUsageFromStats, signalObservationsFromSummary } from './observations.js';
import { isCriticalPod, rankPodsForEviction, type FilesystemLayout, type PodUsage, type RankedPodInput } from './ranking.js';
import { signalResource, type EvictionSignal, type PressureCondition } from './signals.js';
import { thresholdQuantity, type Threshold } from './thresholds.js';

/** Upstream monitoring interval. */
export const EVICTION_MONITORING_INTERVAL_MS = 10_000;
/** Upstream podCleanupTimeout and podCleanupPollFreq. */
export const POD_CLEANUP_TIMEOUT_MS = 30_000;
export const POD_CLEANUP_POLL_MS = 1_000;

/** What the eviction asks of the kubelet's pod killer (upstream killPodNow with a status update). */
export interface EvictionKill {
  readonly gracePeriodOverrideSeconds: number;
  /** Phase Failed, reason Evicted, the message, and the DisruptionTarget condition. */
  readonly status: Pick<V1PodStatus, 'phase' | 'reason' | 'message' | 'conditions'>;
}

export interface EvictionManagerOptions {
  readonly clock: Clock;
  readonly cri: Pick<CriClient, 'listPodSandboxStats' | 'listContainerStats' | 'imageFsInfo'>;
  /** The machine, asked every round (capacities, system usage). */
  readonly machine: () => EvictionMachineInfo;
  /** From parseEvictionThresholds (hard and soft). */
  readonly thresholds: readonly Threshold[];
  /** evictionPressureTransitionPeriod in seconds (default 300). */
  readonly pressureTransitionPeriodSeconds?: number;
  /** evictionMaxPodGracePeriod in seconds (default 0), for soft thresholds. */
  readonly maxPodGracePeriodSeconds?: number;
  /** Pods that may still have running containers (upstream activePods). */
  readonly activePods: () => readonly V1Pod[];
  /** Kills the pod with the grace period override and publishes the status; resolves once it is killed. */
  readonly killPod: (pod: V1Pod, kill: EvictionKill) => Promise<void>;
  /** Whether an evicted pod is fully cleaned up (default: as soon as killPod resolved). */
  readonly podCleanedUp?: (pod: V1Pod) => boolean;
  /** kubelet_evictions and kubelet_eviction_stats_age_seconds (KubeletMetrics fits). */
  readonly metrics?: {
    readonly evictions: { labels(signal: string): { inc(): void } };
    readonly evictionStatsAge?: { labels(signal: string): { observe(value: number): void } };
  };
  /** Called once per eviction with the signal (an alternative or addition to `metrics`). */
  readonly onEviction?: (pod: V1Pod, signal: EvictionSignal | LocalStorageEvictionSignal, message: string) => void;
  /** Node-level reclaim tried before evicting for a disk signal (the kubelet's container and image GC). */
  readonly nodeReclaim?: {
    readonly deleteUnusedContainers?: () => Promise<void>;
    readonly deleteUnusedImages?: () => Promise<void>;
  };
  /**
   * What the agent measures on disk per pod UID (volume directories, container log directories), read
   * every round next to the CRI stats; without it volumes and logs count as empty.
   */
  readonly podDiskUsage?: (pods: readonly V1Pod[]) => Promise<ReadonlyMap<string, PodDiskUsage>>;
  /** LocalStorageCapacityIsolation (default on): evict pods over their ephemeral-storage limits first. */
  readonly localStorageCapacityIsolation?: boolean;
  /** EvictionThresholdMet on the node, Evicted on the pod. */
  readonly recorder?: EventRecorder;
  readonly nodeName?: string;
  readonly monitoringIntervalMs?: number;
  readonly featureGates?: FeatureGateOptions['featureGates'];
  readonly log?: (msg: string) => void;
}

/** What one round saw and did (for tests and logs). */
export interface EvictionRoundReport {
  readonly observations: SignalObservations;
  readonly nodeConditions: readonly PressureCondition[];
  readonly activeThresholds: readonly Threshold[];
  /** Pods evicted this round: at most one for a threshold; every violator for local storage limits. */
  readonly evicted: readonly EvictedPod[];
}

export type { LocalStorageEvictionSignal } from './local-storage.js';

export interface EvictedPod {
  readonly pod: V1Pod;
  readonly signal: EvictionSignal | LocalStorageEvictionSignal;
  readonly message: string;
  readonly gracePeriodOverrideSeconds: number;
}

export type NodeConditionsListener = (conditions: readonly PressureCondition[]) => void;

export class EvictionManager {
  private state: EvictionRoundState = INITIAL_EVICTION_ROUND_STATE;
  private conditions: readonly PressureCondition[] = [];
  private readonly listeners = new Set<NodeConditionsListener>();
  private timer: TimerHandle | null = null;
  private current: Promise<EvictionRoundReport> | null = null;
  private pass: Promise<void> | null = null;
  private stopped = true;

  constructor(private readonly o: EvictionManagerOptions) {}

  /** Starts the monitoring loop: a round now, then every 10 s (at once after an eviction's cleanup). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Resolves once no round (and no post-eviction wait) is under way. */
  async idle(): Promise<void> {
    while (this.pass) await this.pass;
  }

  /** The pressure conditions the node reports now (for the node status manager). */
  nodeConditions(): readonly PressureCondition[] {
    return this.conditions;
  }

  isUnderMemoryPressure(): boolean {
    return this.conditions.includes('MemoryPressure');
  }

  isUnderDiskPressure(): boolean {
    return this.conditions.includes('DiskPressure');
  }

  isUnderPIDPressure(): boolean {
    return this.conditions.includes('PIDPressure');
  }

  /** Called whenever the set of pressure conditions changes; returns the unsubscribe function. */
  onNodeConditionsChange(listener: NodeConditionsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Pod admission under pressure (kubelet-semantics §5.9). */
  admit(pod: V1Pod): EvictionAdmitResult {
    return evictionAdmit(pod, { nodeConditions: this.conditions }, this.o.featureGates ? { featureGates: this.o.featureGates } : undefined);
  }

  /** One round (upstream synchronize). Rounds never overlap: a call during a round waits for it. */
  async synchronize(): Promise<EvictionRoundReport> {
    const previous = this.current;
    const next = (async () => {
      if (previous) await previous.catch(() => undefined);
      return this.round();
    })();
    this.current = next;
    try {
      return await next;
    } finally {
      if (this.current === next) this.current = null;
    }
  }

  private loop(): Promise<void> {
    const pass = this.loopOnce().finally(() => {
      if (this.pass === pass) this.pass = null;
    });
    this.pass = pass;
    return pass;
  }

  private async loopOnce(): Promise<void> {
    if (this.stopped) return;
    let delayMs = this.o.monitoringIntervalMs ?? EVICTION_MONITORING_INTERVAL_MS;
    try {
      const report = await this.synchronize();
      if (report.evicted.length > 0) {
        for (const { pod } of report.evicted) await this.waitForCleanup(pod);
        delayMs = 0;
      }
    } catch (err) {
      this.o.log?.(`eviction manager: ${(err as Error).message}`);
    }
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => void this.loop(), delayMs);
  }

  private async waitForCleanup(pod: V1Pod): Promise<void> {
    const cleanedUp = this.o.podCleanedUp;
    if (!cleanedUp) return;
    const deadline = this.o.clock.monotonic() + POD_CLEANUP_TIMEOUT_MS;
    while (!this.stopped && !cleanedUp(pod) && this.o.clock.monotonic() < deadline) {
      await this.o.clock.sleep(POD_CLEANUP_POLL_MS);
    }
  }

  private async round(): Promise<EvictionRoundReport> {
    const { clock } = this.o;
    const now = clock.now() / 1000;
    const activePods = this.o.activePods();
    const summary = await this.statsSummary(activePods, now);
    const machine = this.o.machine();
    const observations = signalObservationsFromSummary(summary);
    const result = evaluateEvictionRound(this.state, {
      thresholds: this.o.thresholds,
      observations,
      now,
      pressureTransitionPeriodSeconds: this.o.pressureTransitionPeriodSeconds ?? DEFAULT_PRESSURE_TRANSITION_PERIOD_SECONDS,
    });
    this.state = result.state;
    this.setConditions(result.nodeConditions);
    const report: EvictionRoundReport = { observations, nodeConditions: result.nodeConditions, activeThresholds: result.activeThresholds, evicted: [] };
    const statsByUid = new Map(summary.pods?.map((p) => [p.podRef.uid, p]) ?? []);
    const usage = new Map<V1Pod, ReturnType<typeof podUsageFromStats> | null>();
    for (const pod of activePods) {
      const stats = statsByUid.get(pod.metadata?.uid ?? '');
      usage.set(pod, stats ? podUsageFromStats(pod, stats) : null);
    }
    const layout: FilesystemLayout = machine.imagefs ? 'imagefs' : 'shared';

    // Pods over their own ephemeral-storage limits go first, all of them, and end the round.
    if (this.o.localStorageCapacityIsolation ?? true) {
      const evicted: EvictedPod[] = [];
      for (const pod of activePods) {
        const violation = localStorageViolation(pod, usage.get(pod) ?? null, layout);
        if (violation === null || isCriticalPod(pod)) continue;
        await this.evict(pod, IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS, violation.message, {}, null);
        this.o.metrics?.evictions.labels(violation.signal).inc();
        this.o.onEviction?.(pod, violation.signal, violation.message);
        evicted.push({ pod, signal: violation.signal, message: violation.message, gracePeriodOverrideSeconds: IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS });
      }
      if (evicted.length > 0) return { ...report, evicted };
    }

    // Memory signals first (upstream byEvictionPriority), then the first one to reclaim.
    const active = [...result.activeThresholds].sort((a, b) => Number(!isMemory(a.signal)) - Number(!isMemory(b.signal)));
    const threshold = thresholdToReclaim(active);
    if (threshold === null) return report;
    const resource = signalResource(threshold.signal);
    this.o.recorder?.event(nodeRef(this.o.nodeName ?? ''), 'Warning', 'EvictionThresholdMet', `Attempting to reclaim ${resource}`);
    if (await this.reclaimNodeLevelResources(threshold.signal, activePods)) {
      this.o.log?.(`eviction manager: reduced ${resource} pressure without evicting pods`);
      return report;
    }
    if (activePods.length === 0) {
      this.o.log?.('eviction manager: thresholds met, but no pods are active to evict');
      return report;
    }

    const ranked = rankPodsForEviction(
      threshold.signal,
      activePods.map((pod): RankedPodInput => ({ pod, stats: (usage.get(pod) ?? null) as PodUsage | null })),
      { layout, ...(this.o.featureGates ? { featureGates: this.o.featureGates } : {}) },
    );
    for (const t of active) {
      const at = observations[t.signal]?.time;
      if (at !== undefined) this.o.metrics?.evictionStatsAge?.labels(t.signal).observe(Math.max(0, now - at));
    }

    const { thresholdQuantity: quantity, available } = thresholdMetInfo(resource, active, observations);
    for (const pod of ranked) {
      // evictPod refuses critical pods; the next ranked pod goes instead.
      if (isCriticalPod(pod)) {
        this.o.log?.(`eviction manager: cannot evict a critical pod ${podRef(pod).namespace}/${podRef(pod).name}`);
        continue;
      }
      const grace = evictionGracePeriodOverride(threshold, pod, this.o.maxPodGracePeriodSeconds ?? 0);
      const { message, annotations } = evictionMessage(
        { resource, pod, stats: usage.get(pod) ?? null, ...(quantity && available ? { thresholdQuantity: quantity, available } : {}) },
        this.o.featureGates ? { featureGates: this.o.featureGates } : undefined,
      );
      const condition: V1PodCondition = { type: 'DisruptionTarget', status: 'True', reason: 'TerminationByKubelet', message };
      await this.evict(pod, grace, message, annotations, condition);
      this.o.metrics?.evictions.labels(threshold.signal).inc();
      this.o.onEviction?.(pod, threshold.signal, message);
      return { ...report, evicted: [{ pod, signal: threshold.signal, message, gracePeriodOverrideSeconds: grace }] };
    }
    this.o.log?.('eviction manager: unable to evict any pods from the node');
    return report;
  }

  /**
   * Upstream reclaimNodeLevelResources: for disk signals, delete dead containers and unused images first;
   * if fresh stats then meet no threshold (min reclaim included), nobody is evicted this round.
   */
  private async reclaimNodeLevelResources(signal: EvictionSignal, activePods: readonly V1Pod[]): Promise<boolean> {
    const reclaim = this.o.nodeReclaim;
    if (!reclaim) return false;
    const fs = signal.split('.')[0];
    if (fs !== 'nodefs' && fs !== 'imagefs' && fs !== 'containerfs') return false;
    const machine = this.o.machine();
    // With a dedicated imagefs, nodefs holds no images: only dead containers' logs can go.
    const steps = fs === 'nodefs' && machine.imagefs ? [reclaim.deleteUnusedContainers] : [reclaim.deleteUnusedContainers, reclaim.deleteUnusedImages];
    const funcs = steps.filter((f): f is () => Promise<void> => f !== undefined);
    if (funcs.length === 0) return false;
    for (const f of funcs) {
      try {
        await f();
      } catch (err) {
        this.o.log?.(`eviction manager: node-level reclaim failed: ${(err as Error).message}`);
      }
    }
    const now = this.o.clock.now() / 1000;
    const summary = await this.statsSummary(activePods, now);
    return thresholdsMet(this.o.thresholds, signalObservationsFromSummary(summary), true).length === 0;
  }

  /** The CRI stats and the agent's disk measurements of one round, as a stats summary. */
  private async statsSummary(activePods: readonly V1Pod[], now: number) {
    const [sandboxes, containers, imageFs, podDisk] = await Promise.all([
      this.o.cri.listPodSandboxStats({}),
      this.o.cri.listContainerStats({}),
      this.o.cri.imageFsInfo({}),
      this.o.podDiskUsage ? this.o.podDiskUsage(activePods) : undefined,
    ]);
    return criStatsSummary(
      this.o.machine(),
      { sandboxes: sandboxes.stats, containers: containers.stats, imageFs, time: now, ...(podDisk ? { podDisk } : {}) },
      activePods,
    );
  }

  private async evict(
    pod: V1Pod,
    gracePeriodOverrideSeconds: number,
    message: string,
    annotations: Readonly<Record<string, string>>,
    condition: V1PodCondition | null,
  ): Promise<void> {
    const ref = podRef(pod);
    this.o.log?.(`eviction manager: evicting ${ref.namespace}/${ref.name}: ${message}`);
    // Upstream AnnotatedEventf: threshold evictions name the offending containers and the starved resource.
    this.o.recorder?.event(ref, 'Warning', 'Evicted', message, Object.keys(annotations).length > 0 ? annotations : undefined);
    try {
      await this.o.killPod(pod, {
        gracePeriodOverrideSeconds,
        status: { phase: 'Failed', reason: 'Evicted', message, ...(condition ? { conditions: [condition] } : {}) },
      });
    } catch (err) {
      this.o.log?.(`eviction manager: pod ${ref.namespace}/${ref.name} failed to evict: ${(err as Error).message}`);
    }
  }

  private setConditions(next: readonly PressureCondition[]): void {
    const same = next.length === this.conditions.length && next.every((c, i) => this.conditions[i] === c);
    if (same) return;
    this.conditions = [...next];
    for (const listener of this.listeners) listener(this.conditions);
  }
}

function isMemory(signal: EvictionSignal): boolean {
  return signal === 'memory.available' || signal === 'allocatableMemory.available';
}

/** Upstream getThresholdMetInfo: the first active threshold of the resource that has an observation. */
function thresholdMetInfo(
  resource: ReturnType<typeof signalResource>,
  thresholds: readonly Threshold[],
  observations: SignalObservations,
): { thresholdQuantity?: Quantity; available?: Quantity } {
  for (const t of thresholds) {
    if (signalResource(t.signal) !== resource) continue;
    const observed = observations[t.signal];
    if (observed === undefined) continue;
    const capacity = typeof observed.capacity === 'string' ? Quantity.parse(observed.capacity) : observed.capacity;
    const available = typeof observed.available === 'string' ? Quantity.parse(observed.available) : observed.available;
    return { thresholdQuantity: thresholdQuantity(t.value, capacity), available };
  }
  return {};
}
