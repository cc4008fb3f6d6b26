import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { EventReason, nodeRef, type EventRecorder } from '../api/events.js';
import { podCgroupNameParts } from '../kuberuntime/cgroup-name.js';
import { podUid } from '../kuberuntime/pod-helpers.js';
import type { FeatureGateOptions } from '../resources/pod-requests.js';
import { MIN_CPU_SHARES } from '../kuberuntime/cpu-memory.js';
import { podQOSClass } from '../resources/qos.js';
import { CgroupBusyError, type CgroupManager, type CgroupName } from './cgroup-manager.js';
import { sigkill, type KillProcess } from './cgroup-processes.js';
import { removePodCgroup } from './pod-cgroup-removal.js';
import {
  nodeAllocatableResourceConfig,
  podResourceConfig,
  qosResourceConfigs,
  type NodeAllocatableCgroupInput,
  type PodCgroupOptions,
} from './resource-config.js';

/**
 * The kubelet's container manager for pod cgroups (upstream cm/container_manager_linux.go with
 * node_container_manager_linux.go, qos_container_manager_linux.go and pod_container_manager_linux.go):
 * the `kubepods` cgroup limited to node allocatable, the burstable and besteffort tiers under it, and
 * one cgroup per pod created before its sandbox and removed once the pod has terminated.
 */

export const ROOT_CGROUP: CgroupName = ['kubepods'];
export const BURSTABLE_CGROUP: CgroupName = ['kubepods', 'burstable'];
export const BESTEFFORT_CGROUP: CgroupName = ['kubepods', 'besteffort'];
/** periodicQOSCgroupUpdateInterval. */
export const QOS_UPDATE_INTERVAL_MS = 60_000;
/** How long a failed node allocatable enforcement waits before the next attempt. */
export const NODE_ALLOCATABLE_RETRY_MS = 60_000;

const POD_PREFIX = 'pod';
/** Event reasons of upstream pkg/kubelet/events not (yet) in agent/api/events.ts. */
export const FAILED_NODE_ALLOCATABLE_ENFORCEMENT = 'FailedNodeAllocatableEnforcement';
export const FAILED_TO_CREATE_POD_CONTAINER = 'FailedToCreatePodContainer';

export interface ContainerManagerOptions {
  readonly cgroups: CgroupManager;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly nodeName: string;
  readonly pods: PodCgroupOptions;
  readonly nodeAllocatable: () => NodeAllocatableCgroupInput;
  /** Pods that may have running containers: the Burstable tier's shares follow their requests. */
  readonly activePods: () => readonly V1Pod[];
  /**
   * Other kubelets use these cgroups too (test runs on one host, or a node's own kubelet beside a test
   * agent): kubepods and the tiers found existing keep their settings, and only pod cgroups made here
   * count as orphans. A node's only kubelet owns all of them (upstream).
   */
  readonly sharedHost?: boolean;
  /**
   * Whether a pod still has volume directories on the node: its cgroup then stays (so memory-backed
   * volumes are not charged to the parent) with its cpu.shares at the minimum until they are gone.
   */
  readonly podVolumesExist?: (uid: string) => boolean;
  /**
   * Kills a process left in a pod cgroup being removed. Default: SIGKILL on a real cgroup
   * filesystem; none on a stand-in tree, whose cgroup.procs names no process of that pod.
   */
  readonly killProcess?: KillProcess | null;
  readonly log?: (msg: string) => void;
}

export class PodContainerManager {
  private readonly created = new Set<string>();
  private qosTimer: TimerHandle | undefined;
  private allocatableTimer: TimerHandle | undefined;
  private stopped = false;
  /** kubepods did not exist before this manager started. */
  private createdRoot = false;
  /** The QoS tiers whose settings this manager keeps (all of them unless the host is shared). */
  private readonly ownTiers = new Set<CgroupName>();

  constructor(private readonly o: ContainerManagerOptions) {}

  get cgroups(): CgroupManager {
    return this.o.cgroups;
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  private get gates(): FeatureGateOptions {
    return this.o.pods;
  }

  /** Node allocatable on kubepods, then the QoS tiers, then their periodic upkeep (upstream setupNode + Start). */
  async start(): Promise<void> {
    const allocatable = nodeAllocatableResourceConfig(this.o.nodeAllocatable());
    const shared = this.o.sharedHost === true;
    if (!(await this.o.cgroups.exists(ROOT_CGROUP))) {
      await this.o.cgroups.create(ROOT_CGROUP, allocatable);
      this.createdRoot = true;
    }
    if (shared && !this.createdRoot) this.log('kubepods exists on this shared host: its limits are left as they are');
    else await this.enforceNodeAllocatable();
    for (const [name, config] of [
      [BURSTABLE_CGROUP, {}],
      [BESTEFFORT_CGROUP, qosResourceConfigs([], this.gates).besteffort],
    ] as const) {
      if (!(await this.o.cgroups.exists(name))) {
        await this.o.cgroups.create(name, config);
        this.ownTiers.add(name);
      } else if (!shared) {
        await this.o.cgroups.update(name, config);
        this.ownTiers.add(name);
      }
    }
    await this.updateQosCgroups();
    this.qosTimer = this.o.clock.setInterval(() => {
      void this.updateQosCgroups().catch((e: unknown) => this.log(`QoS cgroups: ${(e as Error).message}`));
    }, QOS_UPDATE_INTERVAL_MS);
  }

  stop(): void {
    this.stopped = true;
    this.qosTimer?.cancel();
    this.allocatableTimer?.cancel();
  }

  /** Writes kubepods' limits; on failure a Warning event and another try a minute later, until it holds. */
  private async enforceNodeAllocatable(): Promise<void> {
    const node = nodeRef(this.o.nodeName);
    try {
      await this.o.cgroups.update(ROOT_CGROUP, nodeAllocatableResourceConfig(this.o.nodeAllocatable()));
      this.o.recorder.event(node, 'Normal', EventReason.NodeAllocatableEnforced, 'Updated Node Allocatable limit across pods');
    } catch (e) {
      const message = `Failed to update Node Allocatable Limits "${ROOT_CGROUP.join('/')}": ${(e as Error).message}`;
      this.log(message);
      this.o.recorder.event(node, 'Warning', FAILED_NODE_ALLOCATABLE_ENFORCEMENT, message);
      if (this.stopped) return;
      this.allocatableTimer = this.o.clock.setTimeout(() => void this.enforceNodeAllocatable(), NODE_ALLOCATABLE_RETRY_MS);
    }
  }

  /** Burstable shares from the active Burstable pods' requests, BestEffort at the minimum (the tiers kept here). */
  async updateQosCgroups(): Promise<void> {
    const configs = qosResourceConfigs(this.o.activePods(), this.gates);
    if (this.ownTiers.has(BURSTABLE_CGROUP)) await this.o.cgroups.update(BURSTABLE_CGROUP, configs.burstable);
    if (this.ownTiers.has(BESTEFFORT_CGROUP)) await this.o.cgroups.update(BESTEFFORT_CGROUP, configs.besteffort);
  }

  /** The pod's cgroup: kubepods[/burstable|/besteffort]/pod<uid>, as the sandbox's cgroup_parent names it. */
  podCgroupName(pod: V1Pod): CgroupName {
    return podCgroupNameParts(podQOSClass(pod, this.gates), podUid(pod));
  }

  /**
   * Creates the pod's cgroup with its resource settings when it does not exist yet, after bringing
   * the QoS tiers up to date (upstream SyncPod: UpdateQOSCgroups, then EnsureExists). An existing
   * cgroup is left as it is.
   */
  async ensurePodCgroup(pod: V1Pod): Promise<void> {
    const name = this.podCgroupName(pod);
    if (await this.o.cgroups.exists(name)) return;
    await this.updateQosCgroups().catch((e: unknown) => this.log(`QoS cgroups while syncing pod ${podUid(pod)}: ${(e as Error).message}`));
    await this.o.cgroups.create(name, podResourceConfig(pod, this.o.pods));
    this.created.add(name.join('/'));
  }

  /**
   * In-place resize (upstream doPodResizeAction's SetPodCgroupConfig): writes one resource's settings
   * of the pod cgroup as the allocated pod asks for them; the QoS tiers follow.
   */
  async resizePodCgroup(pod: V1Pod, resource: 'cpu' | 'memory'): Promise<void> {
    const config = podResourceConfig(pod, this.o.pods);
    const part = resource === 'cpu' ? { cpuShares: config.cpuShares, cpuQuota: config.cpuQuota, cpuPeriod: config.cpuPeriod } : { memoryLimitBytes: config.memoryLimitBytes };
    await this.o.cgroups.update(this.podCgroupName(pod), Object.fromEntries(Object.entries(part).filter(([, v]) => v !== undefined)));
    await this.updateQosCgroups().catch((e: unknown) => this.log(`QoS cgroups after resizing pod ${podUid(pod)}: ${(e as Error).message}`));
  }

  /** Removes the pod's cgroup (upstream SyncTerminatedPod); a busy one is left for housekeeping. */
  async destroyPodCgroup(pod: V1Pod): Promise<boolean> {
    return this.destroy(this.podCgroupName(pod));
  }

  /** Kills what is left in the pod cgroup and removes it (./pod-cgroup-removal.ts); false when it stays. */
  private async destroy(name: CgroupName): Promise<boolean> {
    const kill = this.o.killProcess === undefined ? (this.o.cgroups.standIn ? null : sigkill) : this.o.killProcess;
    const removed = await removePodCgroup(name, { cgroups: this.o.cgroups, clock: this.o.clock, kill, log: (msg) => this.log(msg) });
    if (!removed) return false;
    this.created.delete(name.join('/'));
    await this.updateQosCgroups().catch((e: unknown) => this.log(`QoS cgroups: ${(e as Error).message}`));
    return true;
  }

  /**
   * Removes kubepods and its tiers when this manager created them and they are empty again: for test
   * kubelets that should leave a host as they found it (a node's kubelet keeps them, as upstream).
   * Returns false when they were kept (not created here, a pod cgroup left, or in use).
   */
  async removeQosCgroupsIfCreated(): Promise<boolean> {
    if (!this.createdRoot) return false;
    const pods = await this.podCgroups();
    if (pods.size > 0) {
      this.log(`QoS cgroups kept: pod cgroups remain (${[...pods.keys()].join(', ')})`);
      return false;
    }
    try {
      for (const name of [BURSTABLE_CGROUP, BESTEFFORT_CGROUP, ROOT_CGROUP]) await this.o.cgroups.destroy(name);
    } catch (e) {
      if (e instanceof CgroupBusyError) {
        this.log(`QoS cgroups kept: ${e.message}`);
        return false;
      }
      throw e;
    }
    return true;
  }

  /** Every pod cgroup on disk, by pod UID (upstream GetAllPodsFromCgroups). */
  async podCgroups(): Promise<Map<string, CgroupName>> {
    const found = new Map<string, CgroupName>();
    for (const parent of [ROOT_CGROUP, BURSTABLE_CGROUP, BESTEFFORT_CGROUP]) {
      for (const child of await this.o.cgroups.children(parent)) {
        if (child.startsWith(POD_PREFIX) && child.length > POD_PREFIX.length) found.set(child.slice(POD_PREFIX.length), [...parent, child]);
      }
    }
    return found;
  }

  /**
   * Housekeeping (upstream cleanupOrphanedPodCgroups): removes the cgroups of pods that cannot have
   * running containers and whose sandboxes the runtime no longer has (`inRuntime`, asked only when
   * there is a candidate; containerd reads a sandbox's cgroup_parent for its stats until it is removed).
   * What still runs in them is killed first (upstream Destroy); a cgroup still busy waits for the next round.
   * Returns the UIDs removed.
   */
  async cleanupOrphanedPodCgroups(
    possiblyRunning: () => ReadonlySet<string>,
    inRuntime: () => Promise<ReadonlySet<string>> = async () => new Set(),
  ): Promise<string[]> {
    const onDisk = await this.podCgroups();
    // Asked after listing: a pod whose cgroup is listed already has its worker.
    const running = possiblyRunning();
    const candidates = [...onDisk].filter(([uid, name]) => !running.has(uid) && (this.o.sharedHost !== true || this.created.has(name.join('/'))));
    if (candidates.length === 0) return [];
    const sandboxed = await inRuntime();
    const removed: string[] = [];
    for (const [uid, name] of candidates) {
      if (sandboxed.has(uid)) continue;
      if (this.o.podVolumesExist?.(uid)) {
        // upstream ReduceCPULimits while the volumes are cleaned up.
        await this.o.cgroups.update(name, { cpuShares: MIN_CPU_SHARES }).catch((e: unknown) => this.log(`pod cgroup ${name.join('/')}: ${(e as Error).message}`));
        continue;
      }
      if (await this.destroy(name)) removed.push(uid);
    }
    return removed;
  }
}
