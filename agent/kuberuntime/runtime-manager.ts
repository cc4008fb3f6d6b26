import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { formatGoDuration } from '../config/duration.js';
import type { PodSandboxConfig } from '../../proto/generated/cri/runtime/v1/PodSandboxConfig.js';
import type { PodSandboxStatus__Output } from '../../proto/generated/cri/runtime/v1/PodSandboxStatus.js';
import { EventReason, containerRef, podRef, type EventRecorder } from '../api/events.js';
import type { CrashLoopBackOff } from '../lifecycle/backoff.js';
import { killGracePeriodSeconds, stopContainerTimeoutSeconds, type KillReason as GraceKillReason } from '../lifecycle/kill-grace-period.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import type { CriClient } from '../runtime/cri-client.js';
import { CriError } from '../runtime/rpc-error.js';
import type { StartFailure } from '../status/container-statuses.js';
import { computePodActions, type KillReason, type PodActions, type ProbeResultsView, type ResizeView } from './compute-pod-actions.js';
import { planPodResize, resizeDecision, type ResizeResource } from './pod-resize.js';
import { generateContainerConfig, type MountedVolume } from './container-config.js';
import { containerRestartCount, prepareContainerFiles, removeContainerFiles, type ContainerStartNode } from './container-start-inputs.js';
import { hashContainer } from './container-hash.js';
import type { DnsSettings } from './dns.js';
import { ContainerConfigError } from './env.js';
import { ephemeralContainersOf, targetContainerId } from './ephemeral-containers.js';
import { ImagePullError, type ImagePuller } from './image-puller.js';
import { POD_UID_LABEL } from './labels.js';
import { runLifecycleHandler } from './lifecycle-hooks.js';
import {
  containersOf,
  initContainersOf,
  isHostNetwork,
  isRestartableInitContainer,
  podName,
  podNamespace,
  podUid,
} from './pod-helpers.js';
import type { CriResourceOptions } from './resources.js';
import { buildRuntimePodStatus } from './runtime-snapshot.js';
import { findContainerStatus, type RuntimeContainerStatus, type RuntimePodStatus } from './runtime-status.js';
import { generatePodSandboxConfig } from './sandbox-config.js';
import { TerminationMessageReader } from './termination-message.js';
import { hasSidecars } from './termination-order.js';
import { TerminationOrderGate } from './termination-order-gate.js';
import type { CgroupDriver } from './cgroup-name.js';

/**
 * The kuberuntime shell: reads a pod's state from the CRI and carries out computePodActions in the
 * kubelet's order (kill → prune init → sandbox → ephemeral → init containers → regular containers), with image
 * pulls, crash-loop backoff, postStart/preStop hooks and the kubelet's events.
 */

export interface RuntimeSettings {
  /** Mutable: the kubelet adopts the runtime's driver when RuntimeConfig reports one. */
  cgroupDriver: CgroupDriver;
  readonly cgroupsPerQOS: boolean;
  readonly podLogsDir: string;
  readonly dns: DnsSettings;
  readonly resources: CriResourceOptions;
  readonly seccompProfileRoot?: string;
}

export interface RuntimeManagerDeps {
  readonly cri: CriClient;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly imagePuller: ImagePuller;
  readonly crashLoopBackOff: CrashLoopBackOff;
  readonly settings: RuntimeSettings;
  readonly nodeName: string;
  readonly hostIPs: () => readonly string[];
  readonly nodeAllocatable: () => { cpuMilli: bigint; memoryBytes: bigint };
  /** RuntimeClass handler for the pod ('' for the default). Throws when the class does not exist. */
  readonly runtimeHandler: (pod: V1Pod) => Promise<string>;
  readonly metrics?: KubeletMetrics;
  /** CRI runtime name from Version (the containerID scheme). */
  readonly runtimeName: () => string;
  /** Runs before every RemoveContainer (the kubelet removes the container's log files here). */
  readonly beforeRemoveContainer?: (containerId: string) => Promise<void>;
  /** Root dir and service lister for termination message files, /etc/hosts and service links. */
  readonly containerStart?: Omit<ContainerStartNode, 'podLogsDir' | 'clusterDomain'>;
  /** Writes one resource of the pod cgroup for the allocated pod (in-place resize; agent/cm). */
  readonly resizePodCgroup?: (pod: V1Pod, resource: ResizeResource) => Promise<void>;
}

/** Everything a sync needs besides the spec and the runtime state. */
export interface SyncPodInput {
  readonly pod: V1Pod;
  readonly runtime: RuntimePodStatus;
  readonly probes: ProbeResultsView;
  readonly volumes: ReadonlyMap<string, MountedVolume>;
  readonly configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

export interface SyncPodResult {
  readonly actions: PodActions;
  /** Outcome of every container start attempted: a failure (reason, message) or null for success. */
  readonly starts: ReadonlyMap<string, StartFailure | null>;
  /** First error of the sync; the worker retries after a backoff. */
  readonly error?: Error;
  /** Earliest monotonic ms at which a crash-loop or pull backoff of this pod ends. */
  readonly retryAt?: number;
  /** Sandboxes and containers this sync created (whether or not they started). */
  readonly created: CreatedObjects;
  /** Set when the sync resized running containers in place: '' on success, else the error. */
  readonly resizeError?: string;
}

export interface CreatedObjects {
  readonly sandboxIds: readonly string[];
  readonly containerIds: readonly string[];
  /** The status of a created sandbox as the sync read it right after RunPodSandbox (for its IPs). */
  readonly sandboxStatuses?: ReadonlyMap<string, PodSandboxStatus__Output>;
}

export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** upstream format.Pod: name_namespace(uid). */
export function formatPod(pod: V1Pod): string {
  return `${podName(pod)}_${podNamespace(pod)}(${podUid(pod)})`;
}

function isNotFound(e: unknown): boolean {
  return CriError.is(e, 'NotFound');
}

export class KubeRuntimeManager {
  private readonly terminationMessages = new TerminationMessageReader();

  constructor(private readonly deps: RuntimeManagerDeps) {}

  private get startNode(): ContainerStartNode {
    const s = this.deps.settings;
    return { ...this.deps.containerStart, podLogsDir: s.podLogsDir, clusterDomain: s.dns.clusterDomain };
  }

  get runtimeName(): string {
    return this.deps.runtimeName();
  }

  private async timed<T>(op: string, call: () => Promise<T>): Promise<T> {
    const m = this.deps.metrics;
    return m ? m.timeRuntimeOperation(op, this.deps.clock, call) : call();
  }

  /**
   * The runtime's view of one pod: its sandboxes and containers by the pod UID label. The lists and
   * then the per-object statuses are read concurrently; an object removed in between is skipped.
   */
  async getPodStatus(uid: string, name: string, namespace: string): Promise<RuntimePodStatus> {
    const cri = this.deps.cri;
    const selector = { labelSelector: { [POD_UID_LABEL]: uid } };
    const [sandboxes, containers] = await Promise.all([
      this.timed('list_podsandbox', () => cri.listPodSandbox({ filter: selector })),
      this.timed('list_containers', () => cri.listContainers({ filter: selector })),
    ]);
    return this.readPodStatus(
      uid,
      name,
      namespace,
      sandboxes.items.map((sb) => sb.id),
      containers.containers.map((c) => c.id),
    );
  }

  /**
   * The pod's state right after a sync, without listing: only this pod's worker creates objects for
   * it, so they are the ones read before the sync plus those the sync created. Each is read by id;
   * one removed meanwhile is skipped, as in getPodStatus. (The PLEG's relist still lists everything.)
   */
  async getPodStatusAfterSync(before: RuntimePodStatus, created: CreatedObjects): Promise<RuntimePodStatus> {
    return this.readPodStatus(
      before.uid,
      before.name,
      before.namespace,
      [...new Set([...created.sandboxIds, ...before.sandboxStatuses.map((s) => s.id)])],
      [...new Set([...created.containerIds, ...before.containerStatuses.map((c) => c.id)])],
      created.sandboxStatuses,
    );
  }

  /** Sandbox and container statuses by id, read concurrently; an object removed meanwhile is skipped. */
  private async readPodStatus(
    uid: string,
    name: string,
    namespace: string,
    sandboxIds: readonly string[],
    containerIds: readonly string[],
    /** Sandbox statuses this sync has just read (a new sandbox's network does not change under it). */
    known?: ReadonlyMap<string, PodSandboxStatus__Output>,
  ): Promise<RuntimePodStatus> {
    const cri = this.deps.cri;
    const skipMissing = async <T>(read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    };
    const [sandboxStatuses, containerStatuses] = await Promise.all([
      Promise.all(
        sandboxIds.map((podSandboxId) => {
          const status = known?.get(podSandboxId);
          if (status) return { status };
          return skipMissing(() => this.timed('podsandbox_status', () => cri.podSandboxStatus({ podSandboxId })));
        }),
      ),
      Promise.all(containerIds.map((containerId) => skipMissing(() => this.timed('container_status', () => cri.containerStatus({ containerId }))))),
    ]);
    // Exited containers carry their termination message (upstream convertToKubeContainerStatus).
    const withMessages = await Promise.all(containerStatuses.flatMap((s) => (s?.status ? [this.terminationMessages.enrich(s.status)] : [])));
    return buildRuntimePodStatus(
      uid,
      name,
      namespace,
      sandboxStatuses.flatMap((s) => (s?.status ? [s.status] : [])),
      withMessages,
    );
  }

  sandboxConfig(pod: V1Pod, attempt: number): PodSandboxConfig {
    const s = this.deps.settings;
    return generatePodSandboxConfig(pod, {
      attempt,
      cgroupDriver: s.cgroupDriver,
      cgroupsPerQOS: s.cgroupsPerQOS,
      podLogsDir: s.podLogsDir,
      dns: s.dns,
      resources: s.resources,
      ...(s.seccompProfileRoot ? { seccompProfileRoot: s.seccompProfileRoot } : {}),
    });
  }

  /** Runtime SyncPod: one pass of computePodActions and its execution. */
  async syncPod(input: SyncPodInput): Promise<SyncPodResult> {
    const { pod, runtime } = input;
    const actions = computePodActions(pod, runtime, input.probes, this.resizeView(pod));
    let resizeError: string | undefined;
    const starts = new Map<string, StartFailure | null>();
    const created = { sandboxIds: [] as string[], containerIds: [] as string[], sandboxStatuses: new Map<string, PodSandboxStatus__Output>() };
    let retryAt: number | undefined;
    const result = (error?: Error): SyncPodResult => ({
      actions,
      starts,
      created,
      ...(error ? { error } : {}),
      ...(retryAt !== undefined ? { retryAt } : {}),
      ...(resizeError !== undefined ? { resizeError } : {}),
    });

    if (actions.createSandbox && actions.sandboxId !== '') {
      this.deps.recorder.event(podRef(pod), 'Normal', EventReason.SandboxChanged, 'Pod sandbox changed, it will be killed and re-created.');
    }
    if (actions.killPod) {
      try {
        await this.killPod(pod, runtime);
      } catch (e) {
        return result(e as Error);
      }
      if (actions.createSandbox) await this.purgeInitContainers(pod, runtime);
    } else {
      for (const k of actions.containersToKill) {
        try {
          await this.killContainer(pod, k.containerId, k.name, k.message, k.reason, runtime);
        } catch (e) {
          return result(e as Error);
        }
      }
    }
    await this.pruneInitContainers(pod, runtime);

    let sandboxId = actions.sandboxId;
    let podIPs = [...runtime.ips];
    if (actions.createSandbox) {
      this.deps.metrics?.startedPods.inc();
      try {
        const config = this.sandboxConfig(pod, actions.attempt);
        const handler = await this.deps.runtimeHandler(pod);
        const sandbox = await this.timed('run_podsandbox', () => this.deps.cri.runPodSandbox({ config, runtimeHandler: handler }));
        sandboxId = sandbox.podSandboxId;
        created.sandboxIds.push(sandboxId);
      } catch (e) {
        this.deps.metrics?.startedPodsErrors.inc();
        const msg = `Failed to create pod sandbox: ${(e as Error).message}`;
        this.deps.recorder.event(podRef(pod), 'Warning', EventReason.FailedCreatePodSandBox, msg);
        return result(new Error(msg));
      }
      if (!isHostNetwork(pod)) {
        try {
          const st = await this.timed('podsandbox_status', () => this.deps.cri.podSandboxStatus({ podSandboxId: sandboxId }));
          if (st.status) created.sandboxStatuses.set(sandboxId, st.status);
          const net = st.status?.network;
          podIPs = net ? [net.ip, ...net.additionalIps.map((a) => a.ip)].filter((ip) => ip !== '') : [];
        } catch (e) {
          return result(new Error(`Failed to get pod sandbox status: ${(e as Error).message}; skipping pod ${formatPod(pod)}`));
        }
      }
    }
    if (sandboxId === '') return result();
    let sandboxConfig: PodSandboxConfig;
    try {
      sandboxConfig = this.sandboxConfig(pod, actions.createSandbox ? actions.attempt : (runtime.sandboxStatuses[0]?.attempt ?? 0));
    } catch (e) {
      return result(e as Error);
    }
    const podIP = isHostNetwork(pod) ? (this.deps.hostIPs()[0] ?? '') : (podIPs[0] ?? '');
    const effectivePodIPs = isHostNetwork(pod) ? [...this.deps.hostIPs()] : podIPs;

    const start = async (container: V1Container, kind: 'init_container' | 'container' | 'ephemeral_container', ephemeralIndex?: number): Promise<boolean> => {
      try {
        const wait = this.crashLoopCheck(pod, container, runtime);
        if (wait !== null) {
          retryAt = retryAt === undefined ? wait.retryAt : Math.min(retryAt, wait.retryAt);
          starts.set(container.name, { reason: 'CrashLoopBackOff', message: wait.message });
          return false;
        }
        this.deps.metrics?.startedContainers.labels(kind).inc();
        await this.startContainer(pod, container, sandboxId, sandboxConfig, runtime, podIP, effectivePodIPs, input, created.containerIds, ephemeralIndex);
        starts.set(container.name, null);
        return true;
      } catch (e) {
        const reason = e instanceof StartError ? e.reason : 'RunContainerError';
        this.deps.metrics?.startedContainersErrors.labels(kind, reason).inc();
        // Pull failures are retried on the pod worker's error backoff (10 s), as upstream: syncs that land
        // inside the doubling pull backoff report ImagePullBackOff, the others pull again (ErrImagePull).
        starts.set(container.name, { reason, message: (e as Error).message });
        return false;
      }
    };

    let firstError: Error | undefined;
    const startFailed = (c: V1Container): Error => {
      const failure = starts.get(c.name);
      return new Error(`failed to "StartContainer" for "${c.name}" with ${failure?.reason ?? 'error'}: "${failure?.message ?? ''}"`);
    };
    // Ephemeral containers first, so a failing init container cannot keep a debugging container out.
    const ephemerals = ephemeralContainersOf(pod);
    for (const idx of actions.ephemeralContainersToStart) {
      const c = ephemerals[idx];
      if (!c) continue;
      if (!(await start(c, 'ephemeral_container', idx)) && !firstError) firstError = startFailed(c);
    }
    const inits = initContainersOf(pod);
    for (const idx of actions.initContainersToStart) {
      const c = inits[idx];
      if (!c) continue;
      const ok = await start(c, 'init_container');
      if (!ok && !isRestartableInitContainer(c)) {
        return result(new Error(`init container ${c.name} failed to start`));
      }
    }
    // Running containers take their new allocation before more containers start (upstream SyncPod step 7).
    if (actions.containersToUpdate.length > 0) resizeError = await this.doPodResizeAction(pod, runtime, actions.containersToUpdate);
    const regular = containersOf(pod);
    for (const idx of actions.containersToStart) {
      const c = regular[idx];
      if (!c) continue;
      if (!(await start(c, 'container')) && !firstError) firstError = startFailed(c);
    }
    return result(firstError);
  }

  /** computePodActions' view of in-place resize: a spec whose resources cannot be computed resizes nothing. */
  private resizeView(pod: V1Pod): ResizeView {
    const options = this.deps.settings.resources;
    return (container, running) => {
      try {
        return resizeDecision(pod, container, running.resources, options);
      } catch {
        return 'none';
      }
    };
  }

  /**
   * doPodResizeAction: the planned pod cgroup writes and UpdateContainerResources calls in order; the
   * first failure stops the rest. Returns '' on success, else the error message.
   */
  private async doPodResizeAction(pod: V1Pod, runtime: RuntimePodStatus, names: readonly string[]): Promise<string> {
    let steps;
    try {
      steps = planPodResize(pod, runtime, names, this.deps.settings.resources);
    } catch (e) {
      return (e as Error).message;
    }
    for (const step of steps) {
      try {
        if (step.kind === 'pod-cgroup') await this.deps.resizePodCgroup?.(pod, step.resource);
        else {
          await this.timed('update_container', () =>
            this.deps.cri.updateContainerResources({ containerId: step.containerId, linux: step.resources }),
          );
        }
      } catch (e) {
        const what = step.kind === 'pod-cgroup' ? `pod cgroup ${step.resource}` : `container ${step.name} ${step.resource}`;
        return `failed to resize ${what}: ${(e as Error).message}`;
      }
    }
    return '';
  }

  /** doBackOff: refuses a restart while the container's crash-loop window since its last exit is open. */
  private crashLoopCheck(pod: V1Pod, container: V1Container, runtime: RuntimePodStatus): { retryAt: number; message: string } | null {
    const lastExit = runtime.containerStatuses.find((c) => c.name === container.name && c.state === 'exited');
    if (!lastExit) return null;
    const key = `${podName(pod)}_${podNamespace(pod)}_${podUid(pod)}_${container.name}_${hashContainer(container)}`;
    const now = this.deps.clock.now() / 1000;
    const decision = this.deps.crashLoopBackOff.decide(key, lastExit.finishedAt / 1000, now);
    if (decision.start) return null;
    this.deps.recorder.event(
      containerRef(pod, container),
      'Warning',
      EventReason.BackOff,
      `Back-off restarting failed container ${container.name} in pod ${formatPod(pod)}`,
    );
    const retryAtMono = this.deps.clock.monotonic() + (decision.retryAt - now) * 1000;
    return {
      retryAt: retryAtMono,
      message: `back-off ${formatGoDuration(decision.entry.backoffSeconds * 1000)} restarting failed container=${container.name} pod=${formatPod(pod)}`,
    };
  }

  private async startContainer(
    pod: V1Pod,
    container: V1Container,
    sandboxId: string,
    sandboxConfig: PodSandboxConfig,
    runtime: RuntimePodStatus,
    podIP: string,
    /** The node's IPs for a host-network pod (upstream podStatus.IPs), else the sandbox's. */
    podIPs: readonly string[],
    input: SyncPodInput,
    created: string[],
    /** Set for an ephemeral container: its index in spec.ephemeralContainers. */
    ephemeralIndex?: number,
  ): Promise<void> {
    const ref = containerRef(pod, container);
    const recorder = this.deps.recorder;
    let imageRef: string;
    try {
      imageRef = await this.deps.imagePuller.ensureImageExists(pod, container, sandboxConfig, (await this.deps.runtimeHandler(pod)) ?? '');
    } catch (e) {
      if (e instanceof ImagePullError) {
        recorder.event(ref, 'Warning', EventReason.Failed, `Error: ${e.reason}`);
        throw new StartError(e.reason, e.message);
      }
      throw e;
    }
    const previous = findContainerStatus(runtime, container.name);
    // The restart count (a log directory listing) and the host files are independent: read and write them together.
    const [restartCount, prepared] = await Promise.all([
      containerRestartCount(pod, container, previous, this.startNode),
      prepareContainerFiles(pod, container, podIPs, this.startNode).then(
        (files) => ({ files }),
        (error: unknown) => ({ error }),
      ),
    ]);
    let config;
    try {
      // The target's id comes from the state the sync started from, as upstream's getTargetID.
      const pidTargetId = ephemeralIndex === undefined ? undefined : targetContainerId(pod, ephemeralIndex, runtime);
      if ('error' in prepared) throw prepared.error;
      const files = prepared.files;
      config = generateContainerConfig(pod, container, {
        ...files,
        restartCount,
        imageRef,
        volumes: input.volumes,
        resources: this.deps.settings.resources,
        nodeName: this.deps.nodeName,
        hostIPs: this.deps.hostIPs(),
        podIPs,
        configMap: (name) => input.configMaps.get(name),
        secret: (name) => input.secrets.get(name),
        nodeAllocatable: this.deps.nodeAllocatable(),
        ...(this.deps.settings.seccompProfileRoot ? { seccompProfileRoot: this.deps.settings.seccompProfileRoot } : {}),
        ...(pidTargetId !== undefined ? { pidTargetId } : {}),
      });
    } catch (e) {
      const msg = (e as Error).message;
      recorder.event(ref, 'Warning', EventReason.Failed, `Error: ${msg}`);
      throw new StartError(e instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerConfigError', msg);
    }
    let containerId: string;
    try {
      const reply = await this.timed('create_container', () =>
        this.deps.cri.createContainer({ podSandboxId: sandboxId, config, sandboxConfig }),
      );
      containerId = reply.containerId;
      created.push(containerId);
    } catch (e) {
      const msg = (e as Error).message;
      recorder.event(ref, 'Warning', EventReason.Failed, `Error: ${msg}`);
      throw new StartError('CreateContainerError', msg);
    }
    recorder.event(ref, 'Normal', EventReason.Created, `Created container: ${container.name}`);
    try {
      await this.timed('start_container', () => this.deps.cri.startContainer({ containerId }));
    } catch (e) {
      const msg = (e as Error).message;
      recorder.event(ref, 'Warning', EventReason.Failed, `Error: ${msg}`);
      throw new StartError('RunContainerError', msg);
    }
    recorder.event(ref, 'Normal', EventReason.Started, `Started container ${container.name}`);

    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      try {
        await runLifecycleHandler(postStart, { cri: this.deps.cri, clock: this.deps.clock, pod, container, containerId, podIP });
      } catch (e) {
        recorder.event(ref, 'Warning', EventReason.FailedPostStartHook, 'PostStartHook failed');
        try {
          await this.killContainer(pod, containerId, container.name, 'FailedPostStartHook', 'FailedPostStartHook', runtime);
        } catch {
          // The kill is retried by the next sync if it failed.
        }
        throw new StartError('PostStartHookError', (e as Error).message);
      }
    }
  }

  /**
   * killContainer: Killing event, preStop within the grace period, then StopContainer with what is
   * left (at least 2 s). A container the runtime no longer knows counts as stopped.
   */
  async killContainer(
    pod: V1Pod,
    containerId: string,
    name: string,
    message: string,
    reason: KillReason,
    runtime: RuntimePodStatus | undefined,
    gracePeriodOverride?: number,
    ordering?: TerminationOrderGate,
  ): Promise<void> {
    const spec = [...containersOf(pod), ...initContainersOf(pod), ...ephemeralContainersOf(pod)].find((c) => c.name === name) ?? { name };
    const probe = reason === 'LivenessProbe' ? spec.livenessProbe : reason === 'StartupProbe' ? spec.startupProbe : undefined;
    const graceReason: GraceKillReason = reason === 'LivenessProbe' || reason === 'StartupProbe' ? reason : 'Other';
    let grace = gracePeriodOverride ?? killGracePeriodSeconds(pod, graceReason, probe ?? undefined);
    this.deps.recorder.event(containerRef(pod, spec), 'Normal', EventReason.Killing, message || `Stopping container ${name}`);
    const preStop = spec.lifecycle?.preStop;
    let elapsed = 0;
    if (preStop && grace > 0) {
      const startedAt = this.deps.clock.monotonic();
      const controller = new AbortController();
      const timer = this.deps.clock.setTimeout(() => controller.abort(new Error('grace period exceeded')), grace * 1000);
      const podIP = runtime?.ips[0] ?? '';
      try {
        await Promise.race([
          runLifecycleHandler(preStop, { cri: this.deps.cri, clock: this.deps.clock, pod, container: spec, containerId, podIP, signal: controller.signal }),
          new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true })),
        ]);
      } catch {
        this.deps.recorder.event(containerRef(pod, spec), 'Warning', EventReason.FailedPreStopHook, 'PreStopHook failed');
      } finally {
        timer.cancel();
      }
      elapsed = (this.deps.clock.monotonic() - startedAt) / 1000;
    }
    // Whole seconds only, as upstream: the preStop time, then a sidecar's wait for its turn.
    grace -= Math.trunc(elapsed);
    if (ordering !== undefined && grace > 0) grace -= Math.trunc(await ordering.waitForTurn(name, grace));
    grace = stopContainerTimeoutSeconds(grace);
    try {
      await this.timed('stop_container', () => this.deps.cri.stopContainer({ containerId, timeout: grace }));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    // A failed stop leaves the containers waiting on this one to their grace timer (upstream does the same).
    ordering?.containerTerminated(name);
  }

  /**
   * Stops every running container and then every sandbox of the pod. All kills start at once (events
   * and preStop hooks in parallel); with sidecars, a sidecar's StopContainer waits for the regular
   * containers and the sidecar after it to stop, within its grace period (termination-order.ts).
   */
  async killPod(pod: V1Pod, runtime: RuntimePodStatus, gracePeriodOverride?: number): Promise<void> {
    const running = latestRunning(runtime);
    const names = running.map((c) => c.name);
    const ordering = hasSidecars(pod) ? new TerminationOrderGate(pod, names, this.deps.clock) : undefined;
    const errors: Error[] = [];
    const kill = async (c: RuntimeContainerStatus): Promise<void> => {
      try {
        await this.killContainer(pod, c.id, c.name, '', '', runtime, gracePeriodOverride, ordering);
      } catch (e) {
        errors.push(e as Error);
      }
    };
    await Promise.all(running.map(kill));
    for (const sb of runtime.sandboxStatuses) {
      try {
        await this.timed('stop_podsandbox', () => this.deps.cri.stopPodSandbox({ podSandboxId: sb.id }));
      } catch (e) {
        if (!isNotFound(e)) errors.push(e as Error);
      }
    }
    if (errors.length > 0) {
      const msg = `error killing pod: ${errors.map((e) => e.message).join('; ')}`;
      this.deps.recorder.event(podRef(pod), 'Warning', EventReason.FailedKillPod, msg);
      throw new Error(msg);
    }
  }

  /** Removes every sandbox of the pod (the runtime removes their containers with them). */
  async removePod(runtime: RuntimePodStatus): Promise<void> {
    for (const c of runtime.containerStatuses) {
      try {
        await this.removeContainer(c.id);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    for (const sb of runtime.sandboxStatuses) {
      try {
        await this.timed('remove_podsandbox', () => this.deps.cri.removePodSandbox({ podSandboxId: sb.id }));
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const root = this.deps.containerStart?.rootDir;
    if (root !== undefined && runtime.uid !== '') await removeContainerFiles(root, runtime.uid);
  }

  /** Removes every instance of every init container (the sandbox is being recreated). */
  private async purgeInitContainers(pod: V1Pod, runtime: RuntimePodStatus): Promise<void> {
    const names = new Set(initContainersOf(pod).map((c) => c.name));
    for (const c of runtime.containerStatuses) {
      if (!names.has(c.name)) continue;
      await this.removeQuietly(c.id);
    }
  }

  /** Keeps only the newest exited instance of each init container. */
  private async pruneInitContainers(pod: V1Pod, runtime: RuntimePodStatus): Promise<void> {
    for (const init of initContainersOf(pod)) {
      let count = 0;
      for (const c of runtime.containerStatuses) {
        if (c.name !== init.name || (c.state !== 'exited' && c.state !== 'unknown')) continue;
        count++;
        if (count > 1) await this.removeQuietly(c.id);
      }
    }
  }

  /** Upstream removeContainer: the container's logs go first, then RemoveContainer. */
  private async removeContainer(containerId: string): Promise<void> {
    await this.deps.beforeRemoveContainer?.(containerId);
    await this.timed('remove_container', () => this.deps.cri.removeContainer({ containerId }));
    this.terminationMessages.forget(containerId);
  }

  private async removeQuietly(containerId: string): Promise<void> {
    try {
      await this.removeContainer(containerId);
    } catch {
      // Pruning is an optimisation; garbage collection catches up later.
    }
  }
}

/** The newest instance of each container name that is running (upstream ConvertPodStatusToRunningPod). */
export function latestRunning(runtime: RuntimePodStatus): RuntimeContainerStatus[] {
  return runtime.containerStatuses.filter((c) => c.state === 'running');
}
