import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { EventReason, podRef, type EventRecorder } from '../api/events.js';
import { computePodActions, type PodActions, type ProbeResultsView } from '../kuberuntime/compute-pod-actions.js';
import { isHostNetwork, podName, podNamespace, podUid } from '../kuberuntime/pod-helpers.js';
import type { RuntimeHealthTracker } from '../kuberuntime/runtime-health.js';
import type { KubeRuntimeManager } from '../kuberuntime/runtime-manager.js';
import { emptyRuntimePodStatus, type RuntimePodStatus } from '../kuberuntime/runtime-status.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import type { PodRelistView } from '../pleg/pleg.js';
import { plegStatesOf, samePlegStates } from '../pleg/relist-diff.js';
import type { ProbeManager } from '../prober/manager.js';
import { podQOSClass } from '../resources/qos.js';
import type { StartFailure } from '../status/container-statuses.js';
import { generateApiPodStatus, type ProbeStatusView } from '../status/generate.js';
import type { StatusManager } from '../status/status-manager.js';
import type { PodSyncer, SyncOutcome } from './pod-workers.js';
import type { PodVolumeManager } from './volumes.js';

/**
 * The kubelet's per-pod sync functions (upstream kubelet.go SyncPod, SyncTerminatingPod,
 * SyncTerminatedPod) that the pod workers call: publish status, wait for the network and volumes,
 * then run the runtime sync; on the way out stop everything, tear it down and remove the object.
 */

export interface ObjectDataSource {
  configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface PodSyncerDeps {
  readonly clock: Clock;
  readonly runtime: KubeRuntimeManager;
  readonly runtimeHealth: RuntimeHealthTracker;
  readonly statusManager: StatusManager;
  readonly volumes: PodVolumeManager;
  readonly probes: ProbeManager;
  readonly recorder: EventRecorder;
  readonly data: ObjectDataSource;
  readonly hostIPs: () => readonly string[];
  readonly metrics?: KubeletMetrics;
  /** Called with every status generated for a pod (the prober's early readiness trigger). */
  readonly onStatus?: (pod: V1Pod, status: V1PodStatus) => void;
  /** Called before each sync of a static pod (mirror pod upkeep). */
  readonly onStaticPodSync?: (pod: V1Pod) => Promise<void>;
  readonly isStatic?: (pod: V1Pod) => boolean;
  /**
   * True when the runtime certainly has nothing for this pod yet (the PLEG's complete relist saw none
   * of it and this kubelet never synced it), so the first sync can skip reading the runtime.
   */
  readonly runtimeKnownEmpty?: (uid: string) => boolean;
  /** The pod's cgroup: made before anything of the pod runs, removed once it has terminated (agent/cm). */
  readonly podCgroups?: { ensure(pod: V1Pod): Promise<void>; destroy(pod: V1Pod): Promise<void> };
  /** The pod's sandboxes and containers as the PLEG's last relist saw them (undefined before the first). */
  readonly runtimeStates?: (uid: string) => PodRelistView | undefined;
  readonly log?: (msg: string) => void;
  /** In-place resize (agent/allocation): the pod as allocated, the resize conditions, the status fields. */
  readonly resize?: PodResizeHooks;
}

export interface PodResizeHooks {
  /** The pod with its allocated resources in place of the spec's: what the runtime runs. */
  allocatedPod(pod: V1Pod): V1Pod;
  /** The runtime state a sync saw or left, and the error of a resize it attempted. */
  observe(pod: V1Pod, runtime: RuntimePodStatus, resizeError?: string): void;
  /** Adds allocatedResources, resources and the resize conditions to a generated status. */
  decorate(pod: V1Pod, status: V1PodStatus, runtime: RuntimePodStatus): void;
}

/** Nothing to kill, create or start. */
function noActions(a: PodActions): boolean {
  return (
    !a.killPod &&
    !a.createSandbox &&
    a.containersToKill.length === 0 &&
    a.ephemeralContainersToStart.length === 0 &&
    a.initContainersToStart.length === 0 &&
    a.containersToStart.length === 0 &&
    a.containersToUpdate.length === 0
  );
}

export class KubeletPodSyncer implements PodSyncer {
  /** Why the last start of each container failed (upstream reasonCache), by pod UID. */
  private readonly startFailures = new Map<string, Map<string, StartFailure>>();
  private readonly firstSeen = new Map<string, number>();
  private readonly startObserved = new Set<string>();
  /**
   * Per pod: the runtime state (as the PLEG sees it) that its last sync read and left nothing to do in,
   * and when that read started (monotonic ms).
   */
  private readonly actedOn = new Map<string, PodRelistView>();

  constructor(private readonly d: PodSyncerDeps) {}

  probeResults(): ProbeResultsView {
    const caches = this.d.probes.caches;
    return { liveness: (id) => caches.liveness.get(id), startup: (id) => caches.startup.get(id) };
  }

  private probeStatus(pod: V1Pod): ProbeStatusView {
    const caches = this.d.probes.caches;
    const uid = podUid(pod);
    return {
      readiness: (id) => caches.readiness.get(id),
      startup: (id) => caches.startup.get(id),
      hasWorker: (name, probeType) => this.d.probes.hasWorker({ podUid: uid, containerName: name, probeType }),
    };
  }

  /** The status the kubelet would publish for `pod` given the runtime state now. */
  generateStatus(pod: V1Pod, runtime: RuntimePodStatus, podIsTerminal: boolean): V1PodStatus {
    const status = generateApiPodStatus({
      pod,
      runtime,
      oldStatus: this.d.statusManager.getPodStatus(podUid(pod)),
      podIsTerminal,
      qosClass: podQOSClass(pod),
      runtimeName: this.d.runtime.runtimeName,
      startFailures: this.startFailures.get(podUid(pod)) ?? new Map(),
      probes: this.probeStatus(pod),
      hostIPs: this.d.hostIPs(),
      eviction: this.evictions.get(podUid(pod)),
    });
    this.d.resize?.decorate(pod, status, runtime);
    this.d.onStatus?.(pod, status);
    return status;
  }

  /** Evictions decided for pods (phase Failed, reason Evicted), applied to every later status. */
  readonly evictions = new Map<string, { reason: string; message: string }>();

  private async runtimeStatus(pod: V1Pod): Promise<RuntimePodStatus> {
    return this.d.runtime.getPodStatus(podUid(pod), podName(pod), podNamespace(pod));
  }

  private async prefetch(pod: V1Pod): Promise<{ configMaps: Map<string, Record<string, string>>; secrets: Map<string, Record<string, string>> }> {
    const ns = podNamespace(pod);
    const cmNames = new Set<string>();
    const secretNames = new Set<string>();
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef?.name) cmNames.add(from.configMapRef.name);
        if (from.secretRef?.name) secretNames.add(from.secretRef.name);
      }
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef?.name) cmNames.add(e.valueFrom.configMapKeyRef.name);
        if (e.valueFrom?.secretKeyRef?.name) secretNames.add(e.valueFrom.secretKeyRef.name);
      }
    }
    const configMaps = new Map<string, Record<string, string>>();
    const secrets = new Map<string, Record<string, string>>();
    for (const name of cmNames) {
      const data = await this.d.data.configMap(ns, name);
      if (data) configMaps.set(name, data);
    }
    for (const name of secretNames) {
      const data = await this.d.data.secret(ns, name);
      if (data) secrets.set(name, data);
    }
    return { configMaps, secrets };
  }

  /**
   * The PLEG has nothing new for the pod: its last relist shows what the last sync acted on, or its
   * answers were all in before that sync began reading the runtime (upstream's pod cache: a worker
   * needs a status newer than its last sync). A change after the read shows in a later relist, which
   * then differs from this one.
   */
  runtimeUnchanged(pod: V1Pod): boolean {
    const seen = this.actedOn.get(podUid(pod));
    const relist = this.d.runtimeStates?.(podUid(pod));
    if (seen === undefined || relist === undefined) return false;
    return relist.at < seen.at || samePlegStates(seen.states, relist.states);
  }

  async syncPod(pod: V1Pod, kind: 'create' | 'update' | 'sync'): Promise<SyncOutcome> {
    const uid = podUid(pod);
    this.actedOn.delete(uid);
    const firstSync = kind === 'create' && !this.firstSeen.has(uid);
    if (firstSync) this.firstSeen.set(uid, this.d.clock.monotonic());
    const readAt = this.d.clock.monotonic();
    const assumedEmpty = firstSync && this.d.runtimeKnownEmpty?.(uid) === true;
    const runtime = assumedEmpty ? emptyRuntimePodStatus(uid, podName(pod), podNamespace(pod)) : await this.runtimeStatus(pod);
    this.d.resize?.observe(pod, runtime);
    const status = this.generateStatus(pod, runtime, false);
    this.d.statusManager.setPodStatus(pod, status);
    this.observeStart(pod, status);
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return { terminal: true };

    const networkError = this.d.runtimeHealth.networkError();
    if (networkError && !isHostNetwork(pod)) {
      this.d.recorder.event(podRef(pod), 'Warning', 'NetworkNotReady', `${networkError}`);
      throw new Error(networkError);
    }
    await this.d.podCgroups?.ensure(pod);
    if (this.d.isStatic?.(pod) && this.d.onStaticPodSync) await this.d.onStaticPodSync(pod);

    let volumes;
    try {
      volumes = await this.d.volumes.mountPodVolumes(pod);
    } catch (e) {
      this.d.recorder.event(podRef(pod), 'Warning', EventReason.FailedMount, `MountVolume.SetUp failed: ${(e as Error).message}`);
      throw e;
    }
    const { configMaps, secrets } = await this.prefetch(pod);
    try {
      this.d.probes.addPod(pod);
    } catch (e) {
      this.d.log?.(`probes of ${podNamespace(pod)}/${podName(pod)}: ${(e as Error).message}`);
    }

    const runPod = this.d.resize?.allocatedPod(pod) ?? pod;
    const result = await this.d.runtime.syncPod({ pod: runPod, runtime, probes: this.probeResults(), volumes, configMaps, secrets });
    let failures = this.startFailures.get(uid);
    for (const [name, failure] of result.starts) {
      if (failure === null) failures?.delete(name);
      else {
        if (!failures) this.startFailures.set(uid, (failures = new Map()));
        failures.set(name, failure);
      }
    }
    const didWork =
      result.actions.createSandbox || result.starts.size > 0 || result.actions.containersToKill.length > 0 || result.actions.killPod || result.resizeError !== undefined;
    if (didWork) {
      // Publish what the sync just did without waiting for the next PLEG relist.
      const afterAt = this.d.clock.monotonic();
      const after = await this.d.runtime.getPodStatusAfterSync(runtime, result.created);
      this.d.resize?.observe(pod, after, result.resizeError || undefined);
      const next = this.generateStatus(pod, after, false);
      this.d.statusManager.setPodStatus(pod, next);
      this.observeStart(pod, next);
      if (next.phase === 'Succeeded' || next.phase === 'Failed') return { terminal: true };
      // When that state needs nothing more, the PLEG reporting it needs no sync either.
      if (!result.error && noActions(computePodActions(runPod, after, this.probeResults()))) this.actedOn.set(uid, { states: plegStatesOf(after), at: afterAt });
    } else if (!assumedEmpty && !result.error && noActions(result.actions)) {
      this.actedOn.set(uid, { states: plegStatesOf(runtime), at: readAt });
    }
    if (result.error) {
      const retryIn = result.retryAt !== undefined ? Math.max(0, result.retryAt - this.d.clock.monotonic()) : undefined;
      if (retryIn !== undefined && retryIn <= 10_000) return { terminal: false, requeueAfterMs: retryIn };
      throw result.error;
    }
    if (result.retryAt !== undefined) {
      return { terminal: false, requeueAfterMs: Math.max(0, result.retryAt - this.d.clock.monotonic()) };
    }
    return { terminal: false };
  }

  private observeStart(pod: V1Pod, status: V1PodStatus): void {
    const uid = podUid(pod);
    if (this.startObserved.has(uid) || status.phase !== 'Running') return;
    const all = status.containerStatuses ?? [];
    if (all.length === 0 || !all.every((c) => c.state?.running)) return;
    this.startObserved.add(uid);
    const first = this.firstSeen.get(uid);
    if (first !== undefined) this.d.metrics?.podStartDuration.observe((this.d.clock.monotonic() - first) / 1000);
  }

  async syncTerminatingPod(pod: V1Pod, gracePeriodOverride: number | undefined): Promise<void> {
    this.d.probes.stopLivenessAndStartup(podUid(pod));
    const runtime = await this.runtimeStatus(pod);
    await this.d.runtime.killPod(pod, runtime, gracePeriodOverride);
    this.d.probes.removePod(podUid(pod));
    const after = await this.d.runtime.getPodStatusAfterSync(runtime, { sandboxIds: [], containerIds: [] });
    this.d.statusManager.setPodStatus(pod, this.generateStatus(pod, after, true));
  }

  async syncTerminatedPod(pod: V1Pod): Promise<void> {
    const deleting = pod.metadata?.deletionTimestamp != null;
    if (deleting) await this.d.runtime.removePod(await this.runtimeStatus(pod));
    await this.d.volumes.unmountPodVolumes(pod);
    await this.d.podCgroups?.destroy(pod);
    this.startFailures.delete(podUid(pod));
    this.actedOn.delete(podUid(pod));
  }

  async finalizePod(pod: V1Pod): Promise<void> {
    await this.d.runtime.removePod(await this.runtimeStatus(pod));
    await this.d.statusManager.whenPodSettled(podUid(pod));
    await this.d.statusManager.deletePodObject(pod);
    this.firstSeen.delete(podUid(pod));
    this.startObserved.delete(podUid(pod));
    this.actedOn.delete(podUid(pod));
  }
}
