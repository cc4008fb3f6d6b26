import type { V1Container, V1ContainerStatus, V1Pod, V1PodStatus, V1Probe } from '@kubernetes/client-node';
import { containerRef, type EventRecorder } from '../api/events.js';
import type { Clock, TimerHandle } from '../clock/clock.js';
import type { ProbeObservation } from '../metrics/kubelet-metrics.js';
import { isRestartableInitContainer, restartPolicyOf } from '../kuberuntime/pod-helpers.js';
import type { CriClient } from '../runtime/cri-client.js';
import { probeEvent, probeOutcome, runProbeWithRetries, type ProbeTarget } from './handlers/run-probe.js';
import { probeUserAgent, type ProbeRun } from './handlers/types.js';
import { seededRandom } from '../util/seeded-random.js';
import { ProbeManager, type WorkerEventResult, type WorkerKey } from './manager.js';
import type { ResultListener } from './results-cache.js';
import { firstIterationDelaySeconds, nextIterationAt } from './schedule.js';
import { PROBE_TYPES, type ProbeOutcome, type RestartPolicy } from './types.js';
import type { ContainerObservation, WorkerObservation } from './worker.js';

/**
 * The running prober: the pure ProbeManager with one clock-driven loop per worker (upstream
 * prober_manager.go + worker.run). Each loop iterates the worker once at once (or after the restart
 * jitter), then every periodSeconds — earlier when initialDelaySeconds elapses sooner, see schedule.ts —
 * runs the real handler when the worker asks, and feeds the outcome back. Results land in the
 * inherited caches; subscribe with `onResult` (liveness/startup Failure → kill the container,
 * readiness → status).
 *
 * The kubelet reads statuses from the status manager (`podStatus`), as upstream workers do.
 */

/** What the loops need from the rest of the kubelet. */
export interface RunningProbeManagerOptions {
  readonly clock: Clock;
  /** The status manager's current status of a pod (upstream statusManager.GetPodStatus). */
  readonly podStatus: (podUid: string) => V1PodStatus | undefined;
  /** For exec probes (ExecSync). */
  readonly cri: Pick<CriClient, 'execSync'>;
  /** Kubelet version for the `kube-probe/<major>.<minor>` user agent (default v1.34). */
  readonly kubeletVersion?: string;
  /** prober_probe_total / prober_probe_duration_seconds (KubeletMetrics fits). */
  readonly metrics?: { recordProbe(observation: ProbeObservation): void };
  /** Called with every counted probe run, as an alternative or addition to `metrics`. */
  readonly onProbe?: (observation: ProbeObservation) => void;
  /** Unhealthy / ProbeWarning events on the container. */
  readonly recorder?: EventRecorder;
  /** Source of the start-up jitter in [0, 1); default a seeded generator (see seededRandom). */
  readonly random?: () => number;
  /** When the kubelet started, in the clock's wall milliseconds (default: when this manager was made). */
  readonly kubeletStartedAtMs?: number;
  readonly log?: (msg: string) => void;
}

interface Loop {
  readonly key: WorkerKey;
  pod: V1Pod;
  container: V1Container;
  probe: V1Probe;
  timer: TimerHandle | null;
  /** A handler run is in flight. */
  running: boolean;
  /** A tick or trigger arrived during the run (Go's one-slot ticker/trigger channel). */
  pending: boolean;
  /** The worker was told to stop while its handler ran; the loop ends when it completes. */
  stopping: boolean;
}

const PROBE_FIELD = { liveness: 'livenessProbe', readiness: 'readinessProbe', startup: 'startupProbe' } as const;
const METRIC_PROBE_TYPE = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' } as const;

export class RunningProbeManager extends ProbeManager {
  private readonly loops = new Map<string, Loop>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly random: () => number;
  private readonly userAgent: string;
  private readonly startedAtMs: number;
  private readonly startedAtMonotonic: number;
  private inFlight = 0;
  private closed = false;

  constructor(private readonly o: RunningProbeManagerOptions) {
    super();
    this.random = o.random ?? seededRandom(Math.floor(o.clock.now()));
    this.userAgent = probeUserAgent(o.kubeletVersion ?? 'v1.34');
    this.startedAtMs = o.kubeletStartedAtMs ?? o.clock.now();
    this.startedAtMonotonic = o.clock.monotonic() - (o.clock.now() - this.startedAtMs);
  }

  /**
   * Creates the missing workers of `pod` and starts their loops (upstream AddPod); refreshes the pod
   * object every existing loop of the pod sees. Throws InvalidInputError for an invalid probe.
   */
  override addPod(pod: V1Pod): WorkerKey[] {
    if (this.closed) return [];
    const uid = pod.metadata?.uid ?? '';
    let added: WorkerKey[];
    try {
      added = super.addPod(pod);
    } catch (err) {
      // An invalid probe stops AddPod part-way: start the workers it did create before reporting it.
      this.startMissingLoops(pod);
      throw err;
    }
    for (const loop of this.loops.values()) {
      if (loop.key.podUid !== uid) continue;
      const found = findContainer(pod, loop.key.containerName);
      loop.pod = pod;
      if (found) {
        loop.container = found;
        loop.probe = found[PROBE_FIELD[loop.key.probeType]] ?? loop.probe;
      }
    }
    for (const key of added) this.startLoop(key, pod);
    return added;
  }

  /** Pod termination begins: stop liveness and startup (upstream StopLivenessAndStartup). */
  override stopLivenessAndStartup(podUid: string): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.afterStop(super.stopLivenessAndStartup(podUid));
  }

  /** The pod's containers are gone: stop all its loops (upstream RemovePod). */
  override removePod(podUid: string): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.afterStop(super.removePod(podUid));
  }

  /** Stops the loops of every pod not in `desired` (upstream CleanupPods). */
  override cleanupPods(desired: ReadonlySet<string>): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    return this.afterStop(super.cleanupPods(desired));
  }

  /**
   * Upstream UpdatePodStatus, the part with an effect: a started container with no Success readiness
   * result gets its readiness worker run at once (and its ticker reset). Call it whenever the kubelet
   * generates a status for the pod; `started`/`ready` themselves come from `containerStatus`.
   */
  updatePodStatus(podUid: string, status: V1PodStatus): void {
    const all = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])];
    for (const cs of all) {
      const containerId = bareContainerId(cs.containerID);
      if (containerId === '') continue;
      const { triggerReadiness } = this.containerStatus(podUid, cs.name, { containerId, running: cs.state?.running != null });
      if (!triggerReadiness) continue;
      const loop = this.loops.get(loopKey({ podUid, containerName: cs.name, probeType: 'readiness' }));
      if (loop) this.trigger(loop);
    }
  }

  /** Subscribes to every cache update of the three probe types; returns the unsubscribe function. */
  onResult(listener: ResultListener): () => void {
    const offs = PROBE_TYPES.map((t) => this.caches[t].subscribe(listener));
    return () => offs.forEach((off) => off());
  }

  /** Handler runs in flight (tests step virtual time between them). */
  get probesInFlight(): number {
    return this.inFlight;
  }

  /** Resolves once no handler run is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Number of running loops. */
  get loopCount(): number {
    return this.loops.size;
  }

  /** Stops every loop (kubelet shutdown); runs in flight complete but start nothing new. */
  stop(): void {
    this.closed = true;
    this.cleanupPods(new Set());
    for (const loop of this.loops.values()) loop.timer?.cancel();
  }

  // ---- loops -------------------------------------------------------------------------------------

  private startMissingLoops(pod: V1Pod): void {
    const podUid = pod.metadata?.uid ?? '';
    const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
    for (const containerName of names) {
      for (const probeType of PROBE_TYPES) {
        const key: WorkerKey = { podUid, containerName, probeType };
        if (this.hasWorker(key) && !this.loops.has(loopKey(key))) this.startLoop(key, pod);
      }
    }
  }

  private startLoop(key: WorkerKey, pod: V1Pod): void {
    const container = findContainer(pod, key.containerName);
    const probe = container?.[PROBE_FIELD[key.probeType]];
    if (!container || !probe) return;
    const loop: Loop = { key, pod, container, probe, timer: null, running: false, pending: false, stopping: false };
    this.loops.set(loopKey(key), loop);
    const periodSeconds = this.workerState(key)?.spec.periodSeconds ?? 10;
    const delay = firstIterationDelaySeconds({
      periodSeconds,
      kubeletUptimeSeconds: (this.o.clock.monotonic() - this.startedAtMonotonic) / 1000,
      containerRunningAtKubeletStart: this.runningSinceBeforeStart(pod, key.containerName),
      random: this.random(),
    });
    if (delay > 0) loop.timer = this.o.clock.setTimeout(() => this.tick(loop), delay * 1000);
    else this.tick(loop);
  }

  /** Whether the container was already running when the kubelet started (only then is there jitter). */
  private runningSinceBeforeStart(pod: V1Pod, containerName: string): boolean {
    const status = this.o.podStatus(pod.metadata?.uid ?? '') ?? pod.status;
    const cs = findStatus(status, containerName);
    const startedAt = cs?.state?.running?.startedAt;
    if (startedAt === undefined || startedAt === null) return false;
    return toMs(startedAt) < this.startedAtMs;
  }

  /** A period tick: iterate now, or remember it when the handler is still running. */
  private tick(loop: Loop): void {
    loop.timer = null;
    if (this.loops.get(loopKey(loop.key)) !== loop || loop.stopping) return;
    if (loop.running) {
      loop.pending = true;
      return;
    }
    this.iterateLoop(loop);
  }

  /** A manual run (readiness early trigger): iterate at once and restart the period from now. */
  private trigger(loop: Loop): void {
    if (loop.stopping) return;
    if (loop.running) {
      loop.pending = true;
      return;
    }
    loop.timer?.cancel();
    loop.timer = null;
    this.iterateLoop(loop);
  }

  private iterateLoop(loop: Loop): void {
    const nowSeconds = this.o.clock.now() / 1000;
    const result = this.iterate(loop.key, this.observe(loop, nowSeconds));
    if (result.exited !== null) {
      this.endLoop(loop);
      return;
    }
    const periodSeconds = this.workerState(loop.key)?.spec.periodSeconds ?? 10;
    const next = nextIterationAt(nowSeconds, periodSeconds, result.initialDelayUntil);
    loop.timer?.cancel();
    loop.timer = this.o.clock.setTimeout(() => this.tick(loop), Math.max(0, (next - nowSeconds) * 1000));
    if (result.runProbe !== null) void this.runHandler(loop, result.runProbe);
  }

  private async runHandler(loop: Loop, containerId: string): Promise<void> {
    loop.running = true;
    this.inFlight++;
    const startedAt = this.o.clock.monotonic();
    const status = this.o.podStatus(loop.key.podUid);
    const target: ProbeTarget = {
      probeType: loop.key.probeType,
      probe: this.defaulted(loop),
      pod: loop.pod,
      podIP: status?.podIP ?? '',
      container: loop.container,
      containerId,
    };
    let run: ProbeRun;
    try {
      run = await runProbeWithRetries(target, { clock: this.o.clock, cri: this.o.cri, userAgent: this.userAgent });
    } catch (err) {
      run = { result: 'unknown', output: '', error: err instanceof Error ? err : new Error(String(err)) };
    }
    const outcome = probeOutcome(run);
    this.record(loop, run, outcome, (this.o.clock.monotonic() - startedAt) / 1000);
    loop.running = false;
    this.inFlight--;
    try {
      const result = this.completeProbe(loop.key, outcome);
      if (result.exited !== null || loop.stopping) {
        this.endLoop(loop);
      } else if (loop.pending) {
        loop.pending = false;
        this.iterateLoop(loop);
      }
    } finally {
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** The probe with the defaulted timeout the handler needs (the worker already holds the others). */
  private defaulted(loop: Loop): V1Probe {
    const spec = this.workerState(loop.key)?.spec;
    return { ...loop.probe, timeoutSeconds: spec?.timeoutSeconds ?? 1 };
  }

  private record(loop: Loop, run: ProbeRun, outcome: ProbeOutcome, durationSeconds: number): void {
    const event = probeEvent(loop.key.probeType, run);
    if (event) this.o.recorder?.event(containerRef(loop.pod, loop.container), 'Warning', event.reason, event.message);
    if (outcome === 'error') return; // upstream does not count prober errors
    const observation: ProbeObservation = {
      probeType: METRIC_PROBE_TYPE[loop.key.probeType],
      result: outcome === 'success' ? 'successful' : 'failed',
      container: loop.key.containerName,
      pod: loop.pod.metadata?.name ?? '',
      namespace: loop.pod.metadata?.namespace ?? '',
      podUid: loop.key.podUid,
      durationSeconds,
    };
    this.o.metrics?.recordProbe(observation);
    this.o.onProbe?.(observation);
  }

  private observe(loop: Loop, now: number): WorkerObservation {
    const status = this.o.podStatus(loop.key.podUid);
    return {
      now,
      podPhase: status ? ((status.phase ?? 'Pending') as WorkerObservation['podPhase']) : null,
      container: containerObservation(findStatus(status, loop.key.containerName)),
      restartPolicy: containerRestartPolicy(loop.pod, loop.key.containerName),
      podDeleting: loop.pod.metadata?.deletionTimestamp != null,
    };
  }

  private afterStop(stopped: Array<{ key: WorkerKey; result: WorkerEventResult }>): Array<{ key: WorkerKey; result: WorkerEventResult }> {
    for (const { key, result } of stopped) {
      const loop = this.loops.get(loopKey(key));
      if (!loop) continue;
      loop.timer?.cancel();
      loop.timer = null;
      if (result.exited !== null && !loop.running) this.endLoop(loop);
      else loop.stopping = true;
    }
    return stopped;
  }

  private endLoop(loop: Loop): void {
    loop.timer?.cancel();
    loop.timer = null;
    if (this.loops.get(loopKey(loop.key)) === loop) this.loops.delete(loopKey(loop.key));
  }
}

function loopKey(key: WorkerKey): string {
  return `${key.podUid}\u0000${key.containerName}\u0000${key.probeType}`;
}

function findContainer(pod: V1Pod, name: string): V1Container | undefined {
  return pod.spec?.containers?.find((c) => c.name === name) ?? pod.spec?.initContainers?.find((c) => c.name === name);
}

/** Regular container statuses first, then init containers (upstream doProbe). */
function findStatus(status: V1PodStatus | undefined, name: string): V1ContainerStatus | undefined {
  return status?.containerStatuses?.find((c) => c.name === name) ?? status?.initContainerStatuses?.find((c) => c.name === name);
}

/** The policy a container restarts by: sidecars always, others by the pod's (defaulted) policy. */
function containerRestartPolicy(pod: V1Pod, containerName: string): RestartPolicy {
  const init = pod.spec?.initContainers?.find((c) => c.name === containerName);
  return init && isRestartableInitContainer(init) ? 'Always' : restartPolicyOf(pod);
}

function bareContainerId(id: string | undefined): string {
  if (!id) return '';
  const at = id.indexOf('://');
  return at >= 0 ? id.slice(at + 3) : id;
}

function toMs(time: Date | string): number {
  return time instanceof Date ? time.getTime() : Date.parse(time);
}

function containerObservation(cs: V1ContainerStatus | undefined): ContainerObservation | null {
  if (!cs) return null;
  const containerId = bareContainerId(cs.containerID);
  if (containerId === '') return null;
  const running = cs.state?.running;
  if (running) {
    const startedAt = running.startedAt;
    return {
      containerId,
      state: 'running',
      ...(startedAt !== undefined && startedAt !== null ? { startedAt: toMs(startedAt) / 1000 } : {}),
      started: cs.started ?? false,
    };
  }
  return { containerId, state: cs.state?.terminated ? 'terminated' : 'waiting', started: cs.started ?? false };
}

