import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from './clock/clock.js';
import { realClock } from './clock/real-clock.js';
import { admitPod } from './admission/admit.js';
import { AllocationManager, podResizeHooks } from './allocation/allocation-manager.js';
import { FileAllocationStore } from './allocation/checkpoint.js';
import { ApiEventRecorder } from './api/event-recorder.js';
import { FanOutRecorder, MemoryEventRecorder, podRef, type EventRecorder } from './api/events.js';
import { httpCode, type KubeClients } from './api/kube-client.js';
import { ApiPodSource } from './api/pod-source.js';
import { ApiServiceLister } from './api/service-lister.js';
import { podUpdateKind } from './api/pod-update.js';
import { ApiPodStatusWriter } from './api/status-writer.js';
import type { KubeletConfiguration } from './config/types.js';
import { parseResolvConf } from './kuberuntime/dns.js';
import { ImagePuller } from './kuberuntime/image-puller.js';
import { isMirrorPod, isStaticPod, podName, podNamespace, podUid } from './kuberuntime/pod-helpers.js';
import { RuntimeHealthTracker } from './kuberuntime/runtime-health.js';
import { KubeRuntimeManager, type RuntimeSettings } from './kuberuntime/runtime-manager.js';
import { ContainerLogManager } from './logs/index.js';
import { CrashLoopBackOff, DEFAULT_CRASHLOOP_BACKOFF } from './lifecycle/backoff.js';
import { createKubeletMetrics, type KubeletMetrics } from './metrics/kubelet-metrics.js';
import { startHealthAndMetricsServer, type HealthAndMetricsServer } from './metrics/health-server.js';
import { startKubeletServer, type KubeletServer } from './server/kubelet-server.js';
import { allocatableOf, nodeCapacity } from './nodestatus/node-status.js';
import { NodeStatusManager } from './nodestatus/node-status-manager.js';
import { hostMachine, type MachineInfo } from './nodestatus/machine.js';
import { Pleg } from './pleg/pleg.js';
import { KubeletPodSyncer, type ObjectDataSource } from './podworkers/pod-syncer.js';
import { PodWorkers } from './podworkers/pod-workers.js';
import type { PodVolumeManager } from './podworkers/volumes.js';
import { VolumeManager } from './volumes/volume-manager.js';
import { apiVolumeObjectSource } from './volumes/api-objects.js';
import type { CsiDriverRegistration } from './volumes/csi-drivers.js';
import { RunningProbeManager } from './prober/running-manager.js';
import { parseQuantity } from './resources/quantity.js';
import { podQOSClass } from './resources/qos.js';
import { createCriClient, type CriClient } from './runtime/cri-client.js';
import { StatusManager } from './status/status-manager.js';
import { EvictionManager, type EvictionKill } from './eviction/manager.js';
import { evictionThresholdsOf } from './config/eviction-check.js';
import type { EvictionMachineInfo } from './eviction/cri-stats-summary.js';
import { declaredEvictionMachine, hostEvictionMachine } from './eviction/machine.js';
import { measurePodsDiskUsage } from './eviction/pod-disk-usage.js';
import type { Threshold } from './eviction/thresholds.js';
import { StaticPodFileSource } from './staticpods/file-source.js';
import { MirrorPodManager } from './staticpods/mirror-pods.js';
import { nodeRef } from './api/events.js';
import { OrphanCleanup } from './housekeeping/orphan-cleanup.js';
import type { OrphanScope } from './housekeeping/orphans.js';
import type { PodContainerManager } from './cm/container-manager.js';
import { podCgroupHooks, podSandboxUids, startPodCgroups } from './cm/kubelet-pod-cgroups.js';

/**
 * The reference kubelet: pods from the API (spec.nodeName = this node) and from static manifests,
 * admitted, then run by one worker each through the CRI; status, events, node status and the lease
 * published to the API server. Every timer runs on the injected clock.
 */

export const KUBELET_VERSION = 'v1.34.0-harness';
/** podHousekeepingPeriod: gauges, orphan cleanup. */
export const HOUSEKEEPING_PERIOD_MS = 2_000;

export interface KubeletOptions {
  readonly config: KubeletConfiguration;
  readonly nodeName: string;
  readonly rootDir: string;
  readonly clock?: Clock;
  /** A CRI client, or the endpoint to build one (config.containerRuntimeEndpoint otherwise). */
  readonly cri?: CriClient;
  /** API clients; null runs the agent standalone (static pods only). */
  readonly kubeClients: KubeClients | null;
  readonly machine?: MachineInfo;
  readonly metrics?: KubeletMetrics;
  /** Replaces the built-in volume manager (tests). */
  readonly volumes?: PodVolumeManager;
  /** CSI drivers registered with the built-in volume manager. */
  readonly csiDrivers?: readonly CsiDriverRegistration[];
  readonly kubeletVersion?: string;
  /** Eviction monitoring interval (fixed at 10 s upstream; tests shorten it). */
  readonly evictionMonitoringIntervalMs?: number;
  /** Serve /healthz and /metrics on config.healthzBindAddress:healthzPort (0 = any free port). */
  readonly serveHealthz?: boolean;
  /** Serve the kubelet server (/containerLogs) on config.port (0 = any free port), when config.enableServer. */
  readonly serveKubeletServer?: boolean;
  /** Bind address of the kubelet server (default 127.0.0.1; upstream binds config.address, 0.0.0.0). */
  readonly kubeletServerAddress?: string;
  /** Which unknown kubelet-labelled pods housekeeping may remove (default all; narrow it on a runtime shared with a node's kubelet). */
  readonly orphanScope?: OrphanScope;
  /** Where the cgroup filesystems are for pod cgroups (a stand-in tree on the fakes); see cm/activation.ts. */
  readonly cgroupfsRoot?: string;
  /** Other kubelets use this host's cgroups too (test runs): existing kubepods settings are left as found, and housekeeping removes only pod cgroups this one made. */
  readonly sharedCgroupHost?: boolean;
  readonly log?: (msg: string) => void;
}

export class Kubelet {
  readonly clock: Clock;
  readonly cri: CriClient;
  readonly metrics: KubeletMetrics;
  readonly events = new MemoryEventRecorder();
  readonly recorder: EventRecorder;
  readonly statusManager: StatusManager;
  readonly podWorkers: PodWorkers;
  readonly runtime: KubeRuntimeManager;
  readonly runtimeHealth: RuntimeHealthTracker;
  readonly probes: RunningProbeManager;
  readonly pleg: Pleg;
  readonly machine: MachineInfo;
  readonly syncer: KubeletPodSyncer;
  private readonly runtimeSettings: RuntimeSettings;
  readonly volumes: PodVolumeManager;
  private readonly ownVolumeManager: VolumeManager | null;
  readonly nodeStatus: NodeStatusManager | null;
  readonly eviction: EvictionManager;
  readonly logs: ContainerLogManager;
  readonly orphans: OrphanCleanup;
  /** The pod cgroup manager once started; null when pod cgroups are not this kubelet's to manage. */
  podCgroups: PodContainerManager | null = null;
  healthServer: HealthAndMetricsServer | undefined;
  kubeletServer: KubeletServer | undefined;
  private readonly podSource: ApiPodSource | null;
  /** The service informer (null without an API server); specs wait on it before relying on a new service. */
  readonly serviceLister: ApiServiceLister | null;
  readonly staticPods: StaticPodFileSource | null;
  readonly mirrors: MirrorPodManager | null;
  private readonly staticUids = new Set<string>();
  private readonly apiRecorder: ApiEventRecorder | null;
  private readonly admitted = new Map<string, V1Pod>();
  /** Resources allocated to admitted pods and their in-place resizes. */
  readonly allocation: AllocationManager;
  private readonly rejected = new Map<string, V1Pod>();
  private readonly crashLoop: CrashLoopBackOff;
  private housekeeping: TimerHandle | undefined;
  private readonly ownsCri: boolean;
  private readonly runtimeClassHandlers = new Map<string, string>();
  private readonly log: (msg: string) => void;

  constructor(private readonly o: KubeletOptions) {
    const config = o.config;
    this.clock = o.clock ?? realClock;
    this.log = o.log ?? (() => undefined);
    this.machine = o.machine ?? hostMachine(o.rootDir);
    this.metrics = o.metrics ?? createKubeletMetrics();
    this.metrics.setNodeName(o.nodeName);
    this.ownsCri = o.cri === undefined;
    this.cri =
      o.cri ??
      createCriClient({
        runtimeEndpoint: config.containerRuntimeEndpoint,
        imageEndpoint: config.imageServiceEndpoint || undefined,
        timeoutMs: config.runtimeRequestTimeout,
        clock: this.clock,
      });
    const clients = o.kubeClients;
    this.apiRecorder = clients
      ? new ApiEventRecorder(clients, this.clock, { component: 'kubelet', host: o.nodeName }, (m) => this.log(m), {
          qps: config.eventRecordQPS,
          burst: config.eventBurst,
        })
      : null;
    this.recorder = new FanOutRecorder(this.apiRecorder ? [this.events, this.apiRecorder] : [this.events]);
    this.runtimeHealth = new RuntimeHealthTracker(this.cri, this.clock);
    const maxRestart = config.crashLoopBackOff.maxContainerRestartPeriod;
    this.crashLoop = new CrashLoopBackOff(
      maxRestart !== null
        ? { ...DEFAULT_CRASHLOOP_BACKOFF, maxSeconds: maxRestart / 1000, initialSeconds: Math.min(DEFAULT_CRASHLOOP_BACKOFF.initialSeconds, maxRestart / 1000) }
        : DEFAULT_CRASHLOOP_BACKOFF,
    );
    const hostResolvConf = readResolvConf(config.resolvConf);
    this.serviceLister = clients ? new ApiServiceLister(clients, this.clock, (m) => this.log(m)) : null;
    const serviceLister = this.serviceLister;
    this.runtimeSettings = {
      cgroupDriver: config.cgroupDriver,
      cgroupsPerQOS: config.cgroupsPerQOS,
      podLogsDir: config.podLogsDir,
      dns: { clusterDNS: config.clusterDNS, clusterDomain: config.clusterDomain, hostResolvConf },
      resources: {
        memoryCapacityBytes: this.machine.memoryBytes,
        cpuCfsQuota: config.cpuCFSQuota,
        cpuCfsQuotaPeriodUs: config.cpuCFSQuotaPeriod * 1000,
      },
      seccompProfileRoot: `${o.rootDir}/seccomp`,
    };
    this.allocation = new AllocationManager({
      clock: this.clock,
      recorder: this.recorder,
      allocatable: () => this.allocatable(),
      activePods: () => this.activePods(),
      podByUid: (uid) => this.admitted.get(uid),
      triggerSync: (pod) => this.podWorkers.wake(podUid(pod)),
      store: new FileAllocationStore(o.rootDir, (m) => this.log(m)),
    });
    const cgroupHooks = podCgroupHooks(() => this.podCgroups, this.cri, this.recorder, (m) => this.log(m));
    this.runtime = new KubeRuntimeManager({
      resizePodCgroup: (pod, resource) => cgroupHooks.resize(pod, resource),
      cri: this.cri,
      clock: this.clock,
      recorder: this.recorder,
      imagePuller: new ImagePuller(this.cri, this.clock, this.recorder),
      crashLoopBackOff: this.crashLoop,
      settings: this.runtimeSettings,
      nodeName: o.nodeName,
      hostIPs: () => this.machine.addresses,
      nodeAllocatable: () => this.allocatableNumbers(),
      runtimeHandler: (pod) => this.runtimeHandler(pod),
      metrics: this.metrics,
      runtimeName: () => this.runtimeHealth.runtimeName,
      beforeRemoveContainer: (containerId) => this.logs.clean(containerId),
      containerStart: {
        rootDir: o.rootDir,
        ...(serviceLister ? { services: () => serviceLister.list() } : {}),
        log: (m) => this.log(m),
      },
    });
    this.mirrors = clients ? new MirrorPodManager(clients, o.nodeName, () => this.nodeStatus?.nodeUid) : null;
    const apiUid = (namespace: string, name: string, uid: string): string => {
      if (!this.staticUids.has(uid)) return uid;
      const mirror = this.mirrors?.mirrorOf({ metadata: { namespace, name } });
      if (!mirror?.metadata?.uid) throw new Error(`mirror pod ${namespace}/${name} does not exist yet`);
      return mirror.metadata.uid;
    };
    this.statusManager = new StatusManager(clients ? new ApiPodStatusWriter(clients, apiUid) : null, this.clock, this.metrics, (m) => this.log(m));
    this.probes = new RunningProbeManager({
      clock: this.clock,
      podStatus: (uid) => this.statusManager.getPodStatus(uid),
      cri: this.cri,
      kubeletVersion: o.kubeletVersion ?? KUBELET_VERSION,
      metrics: this.metrics,
      recorder: this.recorder,
      log: (m) => this.log(m),
    });
    // A probe result changes readiness or asks for a kill: sync the pod now (upstream syncLoop's probe channels).
    this.probes.onResult((update) => this.podWorkers.wake(update.podUid));
    if (o.volumes) {
      this.volumes = o.volumes;
      this.ownVolumeManager = null;
    } else {
      this.ownVolumeManager = new VolumeManager({
        rootDir: o.rootDir,
        nodeName: o.nodeName,
        objects: apiVolumeObjectSource(clients),
        clock: this.clock,
        ...(o.csiDrivers ? { csiDrivers: o.csiDrivers } : {}),
        nodeAllocatable: () => this.allocatable(),
      });
      this.volumes = this.ownVolumeManager;
      const vm = this.ownVolumeManager;
      this.metrics.setVolumeCountsSource(() => vm.counts());
    }
    this.syncer = new KubeletPodSyncer({
      clock: this.clock,
      runtime: this.runtime,
      runtimeHealth: this.runtimeHealth,
      statusManager: this.statusManager,
      volumes: this.volumes,
      probes: this.probes,
      recorder: this.recorder,
      data: this.objectData(clients),
      hostIPs: () => this.machine.addresses,
      metrics: this.metrics,
      isStatic: isStaticPod,
      onStatus: (pod, status) => this.probes.updatePodStatus(podUid(pod), status),
      runtimeKnownEmpty: (uid) => this.pleg.hasRelisted() && !this.pleg.sawPod(uid),
      podCgroups: cgroupHooks,
      resize: podResizeHooks(this.allocation, () => this.runtimeSettings.resources),
      runtimeStates: (uid) => this.pleg.podStates(uid),
      ...(this.mirrors ? { onStaticPodSync: (pod: V1Pod) => this.mirrors!.ensure(pod) } : {}),
      log: (m) => this.log(m),
    });
    this.podWorkers = new PodWorkers({
      clock: this.clock,
      syncer: this.syncer,
      resyncIntervalMs: config.syncFrequency,
      metrics: this.metrics,
      log: (m) => this.log(m),
    });
    this.pleg = new Pleg(
      this.cri,
      this.clock,
      (events) => {
        for (const uid of new Set(events.map((e) => e.podUid))) this.podWorkers.wakeOnRuntimeChange(uid);
      },
      this.metrics,
      (e) => this.log(`PLEG relist failed: ${e.message}`),
    );
    this.podSource = clients
      ? new ApiPodSource(
          clients,
          o.nodeName,
          this.clock,
          { add: (p) => this.handlePodAddition(p), update: (p) => this.handlePodUpdate(p), delete: (p) => this.handlePodRemoval(p) },
          (m) => this.log(m),
        )
      : null;
    this.nodeStatus = clients
      ? new NodeStatusManager({
          clients,
          clock: this.clock,
          recorder: this.recorder,
          nodeName: o.nodeName,
          machine: this.machine,
          updateFrequencyMs: config.nodeStatusUpdateFrequency,
          reportFrequencyMs: config.nodeStatusReportFrequency,
          leaseDurationSeconds: config.nodeLeaseDurationSeconds,
          registerNode: config.registerNode,
          taints: config.registerWithTaints,
          imageList: async () => (await this.cri.listImages({})).images,
          maxImages: config.nodeStatusMaxImages,
          inputs: () => ({
            maxPods: config.maxPods,
            podsPerCore: config.podsPerCore,
            kubeReserved: config.kubeReserved,
            systemReserved: config.systemReserved,
            evictionHard: config.evictionHard,
            kubeletVersion: o.kubeletVersion ?? KUBELET_VERSION,
            kubeletPort: this.kubeletServer?.port ?? config.port,
            runtime: this.runtimeHealth.health(),
            pressure: {
              memory: this.eviction.isUnderMemoryPressure(),
              disk: this.eviction.isUnderDiskPressure(),
              pid: this.eviction.isUnderPIDPressure(),
            },
            otherErrors: this.pleg.healthy().ok ? [] : [`PLEG is not healthy: ${this.pleg.healthy().message}`],
          }),
          log: (m) => this.log(m),
        })
      : null;
    this.eviction = new EvictionManager({
      clock: this.clock,
      cri: this.cri,
      machine: () => this.evictionMachine(),
      thresholds: this.evictionThresholds(),
      pressureTransitionPeriodSeconds: config.evictionPressureTransitionPeriod / 1000,
      maxPodGracePeriodSeconds: config.evictionMaxPodGracePeriod,
      activePods: () => this.activePods(),
      killPod: (pod, kill) => this.evictPod(pod, kill),
      metrics: this.metrics,
      recorder: this.recorder,
      nodeName: o.nodeName,
      localStorageCapacityIsolation: config.localStorageCapacityIsolation,
      podDiskUsage: (pods) => measurePodsDiskUsage(pods, { rootDir: o.rootDir, podLogsDir: config.podLogsDir }),
      ...(o.evictionMonitoringIntervalMs !== undefined ? { monitoringIntervalMs: o.evictionMonitoringIntervalMs } : {}),
      log: (m) => this.log(m),
    });
    this.logs = new ContainerLogManager({
      clock: this.clock,
      cri: this.cri,
      maxSize: config.containerLogMaxSize,
      maxFiles: config.containerLogMaxFiles,
      maxWorkers: config.containerLogMaxWorkers,
      monitorIntervalMs: config.containerLogMonitorInterval,
      log: (m) => this.log(m),
    });
    this.orphans = new OrphanCleanup({
      cri: this.cri,
      sourcesReady: async () => {
        await this.podSource?.hasSynced();
      },
      knownPods: () => this.knownPodUids(),
      beforeRemoveContainer: (containerId) => this.logs.clean(containerId),
      rootDir: o.rootDir,
      podLogsDir: config.podLogsDir,
      recorder: this.recorder,
      onRunningOrphan: () => this.metrics.orphanedRuntimePods.inc(),
      ...(o.orphanScope ? { scope: o.orphanScope } : {}),
      log: (m) => this.log(m),
    });
    // Pressure changes the node's conditions: write them now rather than at the next update.
    this.eviction.onNodeConditionsChange(() => void this.nodeStatus?.updateStatus());
    this.staticPods = config.staticPodPath
      ? new StaticPodFileSource(config.staticPodPath, o.nodeName, this.clock, config.fileCheckFrequency, {
          add: (p) => this.handleStaticPodAddition(p),
          remove: (p) => this.handleStaticPodRemoval(p),
          invalid: (file, message) => {
            this.log(`static pod manifest rejected: ${message}`);
            this.recorder.event(nodeRef(o.nodeName), 'Warning', 'InvalidStaticPodManifest', message);
          },
        })
      : null;
  }

  private evictionThresholds(): Threshold[] {
    const c = this.o.config;
    try {
      return evictionThresholdsOf(c);
    } catch (e) {
      this.log(`eviction thresholds ignored: ${(e as Error).message}`);
      this.metrics.nodeConfigError.set(1);
      return [];
    }
  }

  /**
   * The machine as the eviction manager sees it, read each round: a declared machine's usage is what
   * the CRI stats say; a host is measured (statfs, /proc) so CRI bytes are not counted twice.
   */
  evictionMachine(): EvictionMachineInfo {
    const m = this.machine;
    const c = this.o.config;
    const r = { kubeReserved: c.kubeReserved, systemReserved: c.systemReserved, enforceNodeAllocatable: c.enforceNodeAllocatable };
    return m.declared ? declaredEvictionMachine(m, r) : hostEvictionMachine(this.o.rootDir, r);
  }

  /** Pods admitted whose containers may still run (upstream activePods). */
  activePods(): V1Pod[] {
    const out: V1Pod[] = [];
    for (const [uid, p] of this.admitted) if (this.podWorkers.couldHaveRunningContainers(uid)) out.push(p);
    return out;
  }

  /** activePods() as allocated, in one list: admission builds it for every new pod. */
  private allocatedActivePods(): V1Pod[] {
    const out: V1Pod[] = [];
    for (const [uid, p] of this.admitted) if (this.podWorkers.couldHaveRunningContainers(uid)) out.push(this.allocation.allocatedPod(p));
    return out;
  }

  /** killPodNow for an eviction: Failed/Evicted status with DisruptionTarget, kill with the override, wait. */
  private async evictPod(pod: V1Pod, kill: EvictionKill): Promise<void> {
    const uid = podUid(pod);
    this.syncer.evictions.set(uid, { reason: kill.status.reason ?? 'Evicted', message: kill.status.message ?? '' });
    const current = this.statusManager.getPodStatus(uid) ?? pod.status ?? {};
    this.statusManager.setPodStatus(pod, {
      ...current,
      phase: 'Failed',
      reason: kill.status.reason ?? 'Evicted',
      message: kill.status.message ?? '',
      conditions: [...(current.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), ...(kill.status.conditions ?? [])],
    });
    this.podWorkers.killPod(this.admitted.get(uid) ?? pod, kill.gracePeriodOverrideSeconds);
    await this.podWorkers.terminated(uid);
  }

  /** A static pod appeared in staticPodPath. */
  handleStaticPodAddition(pod: V1Pod): void {
    this.staticUids.add(podUid(pod));
    this.handlePodAddition(pod);
  }

  /** A static pod's manifest was removed (or replaced): stop it, remove its sandbox and its mirror pod. */
  handleStaticPodRemoval(pod: V1Pod): void {
    const uid = podUid(pod);
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    const deleting: V1Pod = {
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: new Date(this.clock.now()), deletionGracePeriodSeconds: grace },
    };
    if (this.admitted.has(uid)) {
      this.podWorkers.updatePod(deleting);
      this.podWorkers.forgetWhenDone(uid);
    }
    this.admitted.delete(uid);
    this.rejected.delete(uid);
    void this.podWorkers.idle(uid).then(async () => {
      this.staticUids.delete(uid);
      await this.mirrors?.remove(pod);
    }).catch((e: unknown) => this.log(`removing mirror pod of ${podNamespace(pod)}/${podName(pod)}: ${(e as Error).message}`));
  }

  get config(): KubeletConfiguration {
    return this.o.config;
  }

  get nodeName(): string {
    return this.o.nodeName;
  }

  /** Node allocatable as quantity text, from the machine and the reservations (both fixed: computed once). */
  allocatable(): Record<string, string> {
    if (!this.allocatableMemo) {
      const c = this.o.config;
      const capacity = nodeCapacity({ machine: this.machine, maxPods: c.maxPods, podsPerCore: c.podsPerCore });
      this.allocatableMemo = allocatableOf(capacity, { kubeReserved: c.kubeReserved, systemReserved: c.systemReserved, evictionHard: c.evictionHard });
    }
    return { ...this.allocatableMemo };
  }
  private allocatableMemo: Record<string, string> | undefined;

  private allocatableNumbers(): { cpuMilli: bigint; memoryBytes: bigint } {
    if (!this.allocatableNumbersMemo) {
      const a = this.allocatable();
      this.allocatableNumbersMemo = {
        cpuMilli: a['cpu'] ? parseQuantity(a['cpu']).milliValue() : 0n,
        memoryBytes: a['memory'] ? parseQuantity(a['memory']).value() : 0n,
      };
    }
    return this.allocatableNumbersMemo;
  }
  private allocatableNumbersMemo: { cpuMilli: bigint; memoryBytes: bigint } | undefined;

  async start(): Promise<void> {
    await this.runtimeHealth.start();
    if (this.runtimeHealth.lastError) this.log(`container runtime not answering yet: ${this.runtimeHealth.lastError}`);
    await this.reconcileCgroupDriver();
    this.podCgroups = await startPodCgroups({
      config: this.o.config,
      cgroupDriver: this.cgroupDriver,
      runtimeName: this.runtimeHealth.runtimeName,
      cgroupfsRoot: this.o.cgroupfsRoot,
      sharedHost: this.o.sharedCgroupHost,
      rootDir: this.o.rootDir,
      nodeName: this.o.nodeName,
      clock: this.clock,
      recorder: this.recorder,
      metrics: this.metrics,
      capacity: () => nodeCapacity({ machine: this.machine, maxPods: this.o.config.maxPods, podsPerCore: this.o.config.podsPerCore }),
      activePods: () => this.activePods(),
      log: (m) => this.log(m),
    });
    if (this.o.serveHealthz) {
      this.healthServer = await startHealthAndMetricsServer({
        host: this.o.config.healthzBindAddress,
        port: this.o.config.healthzPort,
        registry: this.metrics.registry,
        probesRegistry: this.metrics.probesRegistry,
        healthz: () => {
          const pleg = this.pleg.healthy();
          return pleg.ok ? { ok: true } : { ok: false, reason: `PLEG is not healthy: ${pleg.message}` };
        },
      });
    }
    if (this.o.serveKubeletServer && this.o.config.enableServer) {
      this.kubeletServer = await startKubeletServer({
        host: this.o.kubeletServerAddress ?? '127.0.0.1',
        port: this.o.config.port,
        logs: {
          clock: this.clock,
          cri: this.cri,
          podByName: (namespace, name) => this.podByName(namespace, name),
          podStatus: (pod) => this.statusManager.getPodStatus(podUid(pod)),
          log: (m) => this.log(m),
        },
        exec: { cri: this.cri, podByName: (namespace, name) => this.podByName(namespace, name) },
      });
    }
    if (this.nodeStatus) await this.nodeStatus.start();
    this.pleg.start();
    this.eviction.start();
    this.logs.start();
    if (this.staticPods) await this.staticPods.start();
    // Services first, so the first pods find their service-link environment listed.
    if (this.serviceLister) await this.serviceLister.start();
    if (this.podSource) await this.podSource.start();
    void this.orphans.cleanup().catch((e: unknown) => this.log(`housekeeping: ${(e as Error).message}`));
    this.housekeeping = this.clock.setInterval(() => void this.doHousekeeping(), HOUSEKEEPING_PERIOD_MS);
  }

  async stop(): Promise<void> {
    this.housekeeping?.cancel();
    this.podCgroups?.stop();
    this.staticPods?.stop();
    this.eviction.stop();
    this.logs.stop();
    this.pleg.stop();
    this.nodeStatus?.stop();
    this.runtimeHealth.stop();
    this.podWorkers.stop();
    this.probes.stop();
    await this.podSource?.stop();
    await this.serviceLister?.stop();
    await this.apiRecorder?.flush();
    this.apiRecorder?.close();
    await this.healthServer?.close();
    await this.kubeletServer?.close();
    this.ownVolumeManager?.close();
    // A rotation pass under way finishes before its CRI client goes.
    await this.logs.idle();
    if (this.ownsCri) this.cri.close();
  }

  /**
   * The runtime's cgroup driver wins over the configured one (KubeletCgroupDriverFromCRI, as current
   * kubelets do); a conflict is logged and sets kubelet_node_config_error. Runtimes that do not
   * implement RuntimeConfig leave the configuration as it is.
   */
  private async reconcileCgroupDriver(): Promise<void> {
    let reported: string | undefined;
    try {
      const rc = await this.cri.runtimeConfig({}, { timeoutMs: 5_000 });
      reported = rc.linux?.cgroupDriver;
    } catch {
      return;
    }
    const driver = reported === 'SYSTEMD' ? 'systemd' : reported === 'CGROUPFS' ? 'cgroupfs' : undefined;
    if (!driver || driver === this.runtimeSettings.cgroupDriver) return;
    this.log(`cgroupDriver: configured "${this.runtimeSettings.cgroupDriver}" but the runtime uses "${driver}"; using the runtime's`);
    this.metrics.nodeConfigError.set(1);
    this.runtimeSettings.cgroupDriver = driver;
  }

  /** The cgroup driver in use (after reconciling with the runtime). */
  get cgroupDriver(): 'cgroupfs' | 'systemd' {
    return this.runtimeSettings.cgroupDriver;
  }

  /** A pod this kubelet knows by namespace and name, admitted or rejected (upstream podManager.GetPodByName). */
  podByName(namespace: string, name: string): V1Pod | undefined {
    for (const pods of [this.admitted, this.rejected]) {
      for (const p of pods.values()) if (podName(p) === name && podNamespace(p) === namespace) return p;
    }
    return undefined;
  }

  /** Waits for the informer's first list (tests, `up`). */
  async podSourceSynced(): Promise<void> {
    await this.podSource?.hasSynced();
  }

  /** A pod is new to the kubelet: admit it (or reject it as Failed) and hand it to a worker. */
  handlePodAddition(pod: V1Pod): void {
    if (isMirrorPod(pod)) {
      this.mirrors?.observe(pod);
      return;
    }
    const uid = podUid(pod);
    if (this.admitted.has(uid)) return this.handlePodUpdate(pod);
    if (this.rejected.has(uid)) return;
    const phase = pod.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed' && pod.metadata?.deletionTimestamp == null) {
      // Admitted pods count with their allocated resources, not a resize they asked for (upstream getAllocatedPods).
      const admittedPods = this.allocatedActivePods();
      // A pod allocated before a restart is admitted as allocated, not with a resize still pending (upstream UpdatePodFromAllocation).
      const verdict = admitPod(this.allocation.allocatedPod(pod), { allocatable: this.allocatable(), admittedPods, nodeConditions: this.eviction.nodeConditions() });
      if (!verdict.admit) {
        this.rejectPod(pod, verdict.reason, verdict.message);
        return;
      }
    }
    this.admitted.set(uid, pod);
    this.allocation.addPod(pod);
    // Its checkpointed allocation differs from the spec: the resize is pending again (upstream PushPendingResize).
    if (this.allocation.resizeRequested(pod)) this.allocation.handlePodUpdate(pod);
    this.podWorkers.updatePod(pod);
  }

  handlePodUpdate(pod: V1Pod): void {
    if (isMirrorPod(pod)) {
      this.mirrors?.observe(pod);
      // A mirror pod deleted by a user is recreated by the next sync of its static pod.
      if (pod.metadata?.deletionTimestamp != null) this.wakeStaticPodOf(pod);
      return;
    }
    const uid = podUid(pod);
    const rejected = this.rejected.get(uid);
    if (rejected) {
      this.rejected.set(uid, pod);
      if (pod.metadata?.deletionTimestamp != null) {
        void this.statusManager.deletePodObject(pod).catch((e: unknown) => this.log(`deleting rejected pod: ${(e as Error).message}`));
      }
      return;
    }
    const existing = this.admitted.get(uid);
    if (!existing) return this.handlePodAddition(pod);
    // A status-only change (our own status writes coming back) is a reconcile, not a sync. As upstream's
    // checkAndUpdatePod, the kubelet keeps the pod object it has and takes only the new status: what it
    // derived from that object's spec (admission's request amounts) stays valid.
    if (podUpdateKind(existing, pod) === 'reconcile') {
      existing.status = pod.status;
      this.podWorkers.refreshPod(existing);
      return;
    }
    this.admitted.set(uid, pod);
    this.allocation.handlePodUpdate(pod);
    this.podWorkers.updatePod(pod);
  }

  handlePodRemoval(pod: V1Pod): void {
    if (isMirrorPod(pod)) {
      this.mirrors?.observe(pod, true);
      this.wakeStaticPodOf(pod);
      return;
    }
    const uid = podUid(pod);
    this.rejected.delete(uid);
    this.admitted.delete(uid);
    this.allocation.removePod(uid);
    this.podWorkers.forgetWhenDone(uid);
  }

  private wakeStaticPodOf(mirror: V1Pod): void {
    for (const p of this.staticPods?.pods() ?? []) {
      if (podName(p) === podName(mirror) && podNamespace(p) === podNamespace(mirror)) this.podWorkers.wake(podUid(p));
    }
  }

  private rejectPod(pod: V1Pod, reason: string, message: string): void {
    this.rejected.set(podUid(pod), pod);
    this.recorder.event(podRef(pod), 'Warning', reason, message);
    this.statusManager.setPodStatus(pod, {
      phase: 'Failed',
      reason,
      message: `Pod was rejected: ${message}`,
      qosClass: safeQos(pod),
    });
  }

  private async runtimeHandler(pod: V1Pod): Promise<string> {
    const name = pod.spec?.runtimeClassName;
    if (!name) return '';
    const cached = this.runtimeClassHandlers.get(name);
    if (cached !== undefined) return cached;
    const clients = this.o.kubeClients;
    if (!clients) throw new Error(`RuntimeClass "${name}" cannot be resolved without an API server`);
    try {
      const rc = await clients.node.readRuntimeClass({ name });
      this.runtimeClassHandlers.set(name, rc.handler);
      return rc.handler;
    } catch (e) {
      if (httpCode(e) === 404) throw new Error(`RuntimeClass "${name}" not found`);
      throw e;
    }
  }

  private objectData(clients: KubeClients | null): ObjectDataSource {
    const decode = (data: Record<string, string> | undefined): Record<string, string> =>
      Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    return {
      configMap: async (namespace, name) => {
        if (!clients) return undefined;
        try {
          const cm = await clients.core.readNamespacedConfigMap({ name, namespace });
          return { ...(cm.data ?? {}), ...decode(cm.binaryData) };
        } catch (e) {
          if (httpCode(e) === 404) return undefined;
          throw e;
        }
      },
      secret: async (namespace, name) => {
        if (!clients) return undefined;
        try {
          const s = await clients.core.readNamespacedSecret({ name, namespace });
          return { ...decode(s.data), ...(s.stringData ?? {}) };
        } catch (e) {
          if (httpCode(e) === 404) return undefined;
          throw e;
        }
      },
    };
  }

  /** Pods whose runtime objects are the kubelet's: admitted, rejected, static, in the API, or with a worker. */
  private knownPodUids(): Set<string> {
    const uids = new Set([...this.admitted.keys(), ...this.rejected.keys(), ...this.staticUids, ...this.podWorkers.uids()]);
    for (const p of this.podSource?.list() ?? []) uids.add(podUid(p));
    return uids;
  }

  private async doHousekeeping(): Promise<void> {
    this.crashLoop.gc(this.clock.now() / 1000);
    // Allocations restored from the checkpoint for pods gone while no agent ran (upstream RemoveOrphanedPods).
    this.allocation.removeOrphans(this.knownPodUids());
    void this.podCgroups
      ?.cleanupOrphanedPodCgroups(
        () => new Set(this.podWorkers.uids().filter((uid) => this.podWorkers.couldHaveRunningContainers(uid))),
        () => podSandboxUids(this.cri),
      )
      .catch((e: unknown) => this.log(`housekeeping: pod cgroups: ${(e as Error).message}`));
    try {
      const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox({}), this.cri.listContainers({})]);
      const listing = { sandboxes: sandboxes.items, containers: containers.containers };
      void this.orphans.cleanup(listing).catch((e: unknown) => this.log(`housekeeping: ${(e as Error).message}`));
      this.metrics.runningPods.set(sandboxes.items.filter((s) => s.state === 'SANDBOX_READY').length);
      const counts = { created: 0, running: 0, exited: 0, unknown: 0 };
      for (const c of containers.containers) {
        const state = String(c.state).replace('CONTAINER_', '').toLowerCase() as keyof typeof counts;
        if (state in counts) counts[state]++;
      }
      this.metrics.setRunningContainers(counts);
    } catch (e) {
      this.log(`housekeeping: ${(e as Error).message}`);
    }
    this.metrics.activePods.labels('false').set(this.podWorkers.activeCount());
    for (const uid of this.rejected.keys()) {
      if (!this.podSource?.list().some((p) => podUid(p) === uid)) this.rejected.delete(uid);
    }
  }

  describePod(pod: V1Pod): string {
    return `${podNamespace(pod)}/${podName(pod)}`;
  }
}

function safeQos(pod: V1Pod): string {
  try {
    return podQOSClass(pod);
  } catch {
    return 'BestEffort';
  }
}

function readResolvConf(path: string): ReturnType<typeof parseResolvConf> | null {
  if (path === '') return null;
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { servers: [], searches: [], options: [] };
  }
}
