import type { V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { podRef, type EventRecorder } from '../api/events.js';
import type { Clock } from '../clock/clock.js';
import { podUid } from '../kuberuntime/pod-helpers.js';
import { allocationFromPod, podWithAllocation, resizeEventMessage, resizeFeasibility, resizeRequested, type PodAllocation } from './allocation.js';
import { isResizeInProgress } from '../kuberuntime/pod-resize.js';
import type { CriResourceOptions } from '../kuberuntime/resources.js';
import type { PodResizeHooks } from '../podworkers/pod-syncer.js';
import { applyResizeStatus, POD_RESIZE_IN_PROGRESS, POD_RESIZE_PENDING } from './resize-status.js';
import type { AllocationStore } from './checkpoint.js';

/**
 * The kubelet's allocation manager (upstream pkg/kubelet/allocation): the resources each
 * admitted pod's containers are allocated, resize requests checked against node allocatable and the
 * other pods (PodResizePending Infeasible/Deferred, or a new allocation with PodResizeInProgress), the
 * deferred ones retried when room may have appeared, and the in-progress condition cleared once the
 * runtime shows the allocation applied. Events as upstream: ResizeStarted, ResizeDeferred,
 * ResizeInfeasible, ResizeCompleted, ResizeError. The allocations are checkpointed when a store is
 * given (./checkpoint.ts); the conditions are not, and come back from the first pod update.
 */

export const RESIZE_EVENTS = {
  started: 'ResizeStarted',
  deferred: 'ResizeDeferred',
  infeasible: 'ResizeInfeasible',
  completed: 'ResizeCompleted',
  error: 'ResizeError',
} as const;

export interface AllocationManagerDeps {
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly allocatable: () => Readonly<Record<string, string>>;
  /** Admitted pods that may still run (the kubelet's activePods), with their spec's resources. */
  readonly activePods: () => readonly V1Pod[];
  /** A pod by UID, as the kubelet knows it now. */
  readonly podByUid: (uid: string) => V1Pod | undefined;
  /** Asks the pod's worker for a sync (a deferred resize was allocated). */
  readonly triggerSync: (pod: V1Pod) => void;
  /** Keeps the allocations across restarts (loaded at construction, saved after each change). */
  readonly store?: AllocationStore;
}

interface Held {
  readonly reason: string;
  readonly message: string;
  readonly generation: number;
  readonly since: Date;
}

function generationOf(pod: V1Pod): number {
  return pod.metadata?.generation ?? 1;
}

export class AllocationManager {
  private readonly allocations = new Map<string, PodAllocation>();
  private readonly pendingConditions = new Map<string, Held>();
  private readonly inProgress = new Map<string, Held>();
  private readonly allocatedPods = new WeakMap<V1Pod, { readonly allocation: PodAllocation; readonly pod: V1Pod }>();
  /** Deferred resizes, retried in order when a pod goes away or another pod's update comes in. */
  private readonly deferred: string[] = [];

  private saveQueued = false;

  constructor(private readonly d: AllocationManagerDeps) {
    if (d.store) for (const [uid, allocation] of d.store.load()) this.allocations.set(uid, allocation);
  }

  /** Admission: the pod's spec resources become its allocation (kept if already allocated). */
  addPod(pod: V1Pod): void {
    const uid = podUid(pod);
    if (this.allocations.has(uid)) return;
    this.allocations.set(uid, allocationFromPod(pod));
    this.changed();
  }

  /** The pod's spec asks for other resources than it was allocated (a resize not allocated yet). */
  resizeRequested(pod: V1Pod): boolean {
    const allocation = this.allocations.get(podUid(pod));
    return allocation !== undefined && resizeRequested(pod, allocation);
  }

  /**
   * Forgets the allocations of pods not in `keep` (upstream RemoveOrphanedPods), e.g. pods deleted
   * while no agent ran whose entries came back from the checkpoint.
   */
  removeOrphans(keep: ReadonlySet<string>): void {
    for (const uid of [...this.allocations.keys()]) if (!keep.has(uid)) this.removePod(uid);
  }

  /** Writes the checkpoint now if a change is waiting (otherwise it goes at the end of the current job). */
  flush(): void {
    if (!this.saveQueued) return;
    this.saveQueued = false;
    this.d.store?.save(this.allocations);
  }

  /** Changes within one job (a burst of pod additions) share one checkpoint write. */
  private changed(): void {
    if (!this.d.store || this.saveQueued) return;
    this.saveQueued = true;
    queueMicrotask(() => this.flush());
  }

  allocation(uid: string): PodAllocation | undefined {
    return this.allocations.get(uid);
  }

  /** The pod as the runtime should run it: its allocated resources in place of the spec's. */
  allocatedPod(pod: V1Pod): V1Pod {
    const allocation = this.allocations.get(podUid(pod));
    if (allocation === undefined) return pod;
    // Admission maps every active pod through here: pod objects are values, so the answer is kept per
    // object and allocation instead of comparing quantities each time.
    const cached = this.allocatedPods.get(pod);
    if (cached !== undefined && cached.allocation === allocation) return cached.pod;
    const allocated = podWithAllocation(pod, allocation);
    this.allocatedPods.set(pod, { allocation, pod: allocated });
    return allocated;
  }

  /**
   * A pod update came in: when its spec asks for other resources than allocated, allocate them if they
   * fit (true: the pod needs a sync), else hold the resize as pending. Other deferred resizes get
   * another try first (upstream retries on every pod update).
   */
  handlePodUpdate(pod: V1Pod): boolean {
    const uid = podUid(pod);
    const changed = this.handleResize(pod);
    this.retryDeferred(uid);
    return changed;
  }

  private handleResize(pod: V1Pod): boolean {
    const uid = podUid(pod);
    const allocation = this.allocations.get(uid);
    if (allocation === undefined) {
      this.addPod(pod);
      return false;
    }
    this.dropDeferred(uid);
    if (!resizeRequested(pod, allocation)) {
      this.pendingConditions.delete(uid);
      return false;
    }
    const others = this.d
      .activePods()
      .filter((p) => podUid(p) !== uid)
      .map((p) => podWithAllocation(p, this.allocations.get(podUid(p))));
    let verdict;
    try {
      verdict = resizeFeasibility({ pod, otherPods: others, allocatable: this.d.allocatable() });
    } catch (e) {
      verdict = { fit: false as const, reason: 'Infeasible' as const, message: (e as Error).message };
    }
    const generation = generationOf(pod);
    if (verdict.fit) {
      this.allocations.set(uid, allocationFromPod(pod));
      // Checkpointed before the runtime is asked to apply it, as upstream SetAllocatedResources.
      this.changed();
      this.flush();
      this.pendingConditions.delete(uid);
      this.inProgress.set(uid, { reason: '', message: '', generation, since: this.now() });
      this.d.recorder.event(podRef(pod), 'Normal', RESIZE_EVENTS.started, resizeEventMessage('Pod resize started', pod, generation));
      return true;
    }
    const held = this.pendingConditions.get(uid);
    if (held === undefined || held.reason !== verdict.reason || held.message !== verdict.message || held.generation !== generation) {
      const since = held?.reason === verdict.reason ? held.since : this.now();
      this.pendingConditions.set(uid, { reason: verdict.reason, message: verdict.message, generation, since });
      const event = verdict.reason === 'Infeasible' ? RESIZE_EVENTS.infeasible : RESIZE_EVENTS.deferred;
      this.d.recorder.event(podRef(pod), 'Warning', event, resizeEventMessage(`Pod resize ${verdict.reason}`, pod, generation, verdict.message));
    }
    if (verdict.reason === 'Deferred') this.deferred.push(uid);
    return false;
  }

  private dropDeferred(uid: string): void {
    const at = this.deferred.indexOf(uid);
    if (at >= 0) this.deferred.splice(at, 1);
  }

  /** Retries every deferred resize (but `except`); each one now allocated gets a sync. */
  retryDeferred(except?: string): void {
    for (const uid of [...this.deferred]) {
      if (uid === except) continue;
      const pod = this.d.podByUid(uid);
      if (pod === undefined) {
        this.dropDeferred(uid);
        continue;
      }
      if (this.handleResize(pod)) this.d.triggerSync(pod);
    }
  }

  /**
   * What a sync saw or did about a resize in progress: `resizeError` is undefined when the sync only
   * looked at the runtime, '' when its resize calls succeeded, else their error (PodResizeInProgress
   * with reason Error and a ResizeError event). The condition goes, with a ResizeCompleted event, once
   * the runtime's settings match the allocation.
   */
  afterSync(pod: V1Pod, stillResizing: boolean, resizeError?: string): void {
    const uid = podUid(pod);
    const held = this.inProgress.get(uid);
    const generation = held?.generation ?? generationOf(pod);
    const since = held?.since ?? this.now();
    if (resizeError !== undefined && resizeError !== '') {
      if (held?.reason !== 'Error' || held.message !== resizeError) {
        this.inProgress.set(uid, { reason: 'Error', message: resizeError, generation, since });
        this.d.recorder.event(podRef(pod), 'Warning', RESIZE_EVENTS.error, resizeEventMessage('Pod resize error', this.allocatedPod(pod), generation, resizeError));
      }
      return;
    }
    if (held === undefined) return;
    if (!stillResizing) {
      this.inProgress.delete(uid);
      this.d.recorder.event(podRef(pod), 'Normal', RESIZE_EVENTS.completed, resizeEventMessage('Pod resize completed', this.allocatedPod(pod), generation));
    } else if (resizeError === '' && held.reason === 'Error') {
      this.inProgress.set(uid, { reason: '', message: '', generation, since });
    }
  }

  /** A resize was allocated and the runtime has not been seen to apply it yet. */
  resizeInProgress(uid: string): boolean {
    return this.inProgress.has(uid);
  }

  /** PodResizePending / PodResizeInProgress as they stand for the pod. */
  conditions(uid: string): V1PodCondition[] {
    const out: V1PodCondition[] = [];
    const pending = this.pendingConditions.get(uid);
    if (pending) out.push(condition(POD_RESIZE_PENDING, pending));
    const progress = this.inProgress.get(uid);
    if (progress) out.push(condition(POD_RESIZE_IN_PROGRESS, progress));
    return out;
  }

  /** The pod is gone: its allocation is released and deferred resizes may fit now. */
  removePod(uid: string): void {
    const had = this.allocations.delete(uid);
    if (had) this.changed();
    this.pendingConditions.delete(uid);
    this.inProgress.delete(uid);
    this.dropDeferred(uid);
    if (had) this.retryDeferred();
  }

  private now(): Date {
    return new Date(this.d.clock.now());
  }
}

function condition(type: string, held: Held): V1PodCondition {
  return {
    type,
    status: 'True',
    lastTransitionTime: held.since,
    observedGeneration: held.generation,
    ...(held.reason !== '' ? { reason: held.reason } : {}),
    ...(held.message !== '' ? { message: held.message } : {}),
  };
}

/**
 * The pod syncer's view of resize (PodResizeHooks): the allocated pod to run, the runtime's state fed
 * back to the manager, and the status fields.
 */
export function podResizeHooks(manager: AllocationManager, resources: () => CriResourceOptions): PodResizeHooks {
  return {
    allocatedPod: (pod) => manager.allocatedPod(pod),
    observe(pod, runtime, resizeError) {
      // Most syncs have no resize to follow: nothing to compare then.
      if (resizeError === undefined && !manager.resizeInProgress(podUid(pod))) return;
      let still = false;
      try {
        still = isResizeInProgress(manager.allocatedPod(pod), runtime, resources());
      } catch {
        still = false; // a spec whose resources cannot be computed has nothing to compare
      }
      manager.afterSync(pod, still, resizeError);
    },
    decorate(pod, status, runtime) {
      const uid = podUid(pod);
      try {
        applyResizeStatus(status, manager.allocation(uid), runtime, manager.conditions(uid));
      } catch {
        applyResizeStatus(status, undefined, runtime, manager.conditions(uid));
      }
    },
  };
}
