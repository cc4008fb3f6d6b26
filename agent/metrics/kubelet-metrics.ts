import { Counter, Gauge, Histogram, Registry, exponentialBuckets } from 'prom-client';
import type { Clock } from '../clock/clock.js';

/** prometheus.DefBuckets, component-base's default for kubelet histograms. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Buckets of the pod start histograms (first seen → running), in seconds. */
export const POD_START_BUCKETS: readonly number[] = [
  0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600,
];

/** kubelet_runtime_operations_duration_seconds: 0.005 × 2.5^n, 14 buckets. */
export const RUNTIME_OPERATION_BUCKETS: readonly number[] = exponentialBuckets(0.005, 2.5, 14);

export const POD_STATUS_SYNC_BUCKETS: readonly number[] = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 20, 30, 45, 60];
export const CONTAINERS_PER_POD_BUCKETS: readonly number[] = [1, 2, 4, 8, 16];

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';
export type StartedContainerType = 'container' | 'init_container' | 'ephemeral_container';
export type ProbeType = 'Liveness' | 'Readiness' | 'Startup';
export type ProbeResult = 'successful' | 'failed' | 'unknown';
export type VolumeState = 'desired_state_of_world' | 'actual_state_of_world';

/** Volume counts by plugin name, read at scrape time (as upstream's collector reads the volume manager). */
export interface VolumeCounts {
  desired: Readonly<Record<string, number>>;
  actual: Readonly<Record<string, number>>;
}

export interface ProbeObservation {
  probeType: ProbeType;
  result: ProbeResult;
  container: string;
  pod: string;
  namespace: string;
  podUid: string;
  durationSeconds: number;
}

/**
 * The kubelet's metrics with upstream names, types, labels and buckets (kubelet-semantics §9),
 * registered on a private registry (never prom-client's global one). Help texts are ours and carry
 * the upstream stability level in brackets, as component-base renders it.
 */
export interface KubeletMetrics {
  /** Everything /metrics serves. */
  readonly registry: Registry;
  /** Prober metrics only, as upstream serves them on /metrics/probes. */
  readonly probesRegistry: Registry;
  readonly runningPods: Gauge;
  readonly runningContainers: Gauge<'container_state'>;
  readonly podStartDuration: Histogram;
  readonly podStartSliDuration: Histogram;
  readonly podStartTotalDuration: Histogram;
  readonly podWorkerDuration: Histogram<'operation_type'>;
  readonly podWorkerStartDuration: Histogram;
  readonly podStatusSyncDuration: Histogram;
  readonly cgroupManagerDuration: Histogram<'operation_type'>;
  readonly plegRelistDuration: Histogram;
  readonly plegRelistInterval: Histogram;
  readonly runtimeOperations: Counter<'operation_type'>;
  readonly runtimeOperationsErrors: Counter<'operation_type'>;
  readonly runtimeOperationsDuration: Histogram<'operation_type'>;
  readonly evictions: Counter<'eviction_signal'>;
  readonly evictionStatsAge: Histogram<'eviction_signal'>;
  readonly preemptions: Counter<'preemption_signal'>;
  readonly startedPods: Counter;
  readonly startedPodsErrors: Counter;
  readonly startedContainers: Counter<'container_type'>;
  readonly startedContainersErrors: Counter<'container_type' | 'code'>;
  readonly restartedPods: Counter<'static'>;
  readonly orphanedRuntimePods: Counter;
  readonly desiredPods: Gauge<'static'>;
  readonly activePods: Gauge<'static'>;
  readonly mirrorPods: Gauge;
  readonly containersPerPod: Histogram;
  readonly nodeName: Gauge<'node'>;
  readonly nodeConfigError: Gauge;
  readonly proberProbeTotal: Counter<'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid'>;
  readonly proberProbeDuration: Histogram<'probe_type' | 'container' | 'pod' | 'namespace'>;
  readonly volumeManagerTotalVolumes: Gauge<'plugin_name' | 'state'>;

  /** Sets kubelet_node_name{node} = 1 (and drops any previous name). */
  setNodeName(node: string): void;
  /** Sets kubelet_running_containers for every state (states not given become 0). */
  setRunningContainers(counts: Partial<Record<ContainerState, number>>): void;
  /** Counts one CRI call: operations_total, errors_total on rejection, duration on the clock. */
  timeRuntimeOperation<T>(operationType: string, clock: Clock, call: () => Promise<T>): Promise<T>;
  /** Counts one probe result; duration observed only for successful and unknown results, as upstream. */
  recordProbe(observation: ProbeObservation): void;
  /** Where volume_manager_total_volumes reads its counts at scrape time. */
  setVolumeCountsSource(source: () => VolumeCounts): void;
}

export function createKubeletMetrics(options: { registry?: Registry; probesRegistry?: Registry } = {}): KubeletMetrics {
  const registry = options.registry ?? new Registry();
  const probesRegistry = options.probesRegistry ?? new Registry();
  const registers = [registry];
  const both = [registry, probesRegistry];
  let volumeSource: (() => VolumeCounts) | undefined;

  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> =>
    new Gauge<L>({ name, help, labelNames, registers });
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers });
  const histogram = <L extends string = never>(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly L[] = [],
  ): Histogram<L> => new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers });

  const nodeName = gauge('kubelet_node_name', '[ALPHA] The node this kubelet runs as; the value is always 1.', ['node']);
  const runningContainers = gauge(
    'kubelet_running_containers',
    '[ALPHA] How many containers the runtime currently reports, by container state.',
    ['container_state'],
  );
  const runtimeOperations = counter('kubelet_runtime_operations_total', '[ALPHA] CRI calls made, by operation.', ['operation_type']);
  const runtimeOperationsErrors = counter(
    'kubelet_runtime_operations_errors_total',
    '[ALPHA] CRI calls that failed, by operation.',
    ['operation_type'],
  );
  const runtimeOperationsDuration = histogram(
    'kubelet_runtime_operations_duration_seconds',
    '[ALPHA] How long CRI calls took, in seconds, by operation.',
    RUNTIME_OPERATION_BUCKETS,
    ['operation_type'],
  );
  const proberProbeTotal = new Counter({
    name: 'prober_probe_total',
    help: '[BETA] Probe runs per container, by probe type and result (prober errors are not counted).',
    labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'] as const,
    registers: both,
  });
  const proberProbeDuration = new Histogram({
    name: 'prober_probe_duration_seconds',
    help: '[ALPHA] How long a probe took to answer, in seconds (successful and unknown results only).',
    labelNames: ['probe_type', 'container', 'pod', 'namespace'] as const,
    buckets: [...DEFAULT_BUCKETS],
    registers: both,
  });
  const volumeManagerTotalVolumes = new Gauge({
    name: 'volume_manager_total_volumes',
    help: '[ALPHA] Volumes known to the volume manager, by plugin and by desired or actual state of the world.',
    labelNames: ['plugin_name', 'state'] as const,
    registers,
    collect() {
      if (!volumeSource) return;
      const counts = volumeSource();
      this.reset();
      for (const [state, byPlugin] of [
        ['desired_state_of_world', counts.desired],
        ['actual_state_of_world', counts.actual],
      ] as const) {
        for (const [plugin, n] of Object.entries(byPlugin)) this.set({ plugin_name: plugin, state }, n);
      }
    },
  });

  return {
    registry,
    probesRegistry,
    runningPods: gauge('kubelet_running_pods', '[ALPHA] How many pods have a running pod sandbox.'),
    runningContainers,
    podStartDuration: histogram(
      'kubelet_pod_start_duration_seconds',
      '[ALPHA] Seconds from the kubelet first seeing a pod to the pod running.',
      POD_START_BUCKETS,
    ),
    podStartSliDuration: histogram(
      'kubelet_pod_start_sli_duration_seconds',
      '[ALPHA] Seconds to start a pod, leaving out image pulls and init container runtime.',
      POD_START_BUCKETS,
    ),
    podStartTotalDuration: histogram(
      'kubelet_pod_start_total_duration_seconds',
      '[ALPHA] Seconds to start a pod from creation, image pulls included.',
      POD_START_BUCKETS,
    ),
    podWorkerDuration: histogram(
      'kubelet_pod_worker_duration_seconds',
      '[ALPHA] Seconds one pod worker sync took, by operation (create, update, sync).',
      DEFAULT_BUCKETS,
      ['operation_type'],
    ),
    podWorkerStartDuration: histogram(
      'kubelet_pod_worker_start_duration_seconds',
      '[ALPHA] Seconds from a pod being seen to its worker starting.',
      DEFAULT_BUCKETS,
    ),
    podStatusSyncDuration: histogram(
      'kubelet_pod_status_sync_duration_seconds',
      '[ALPHA] Seconds to sync a pod status update to the API server.',
      POD_STATUS_SYNC_BUCKETS,
    ),
    cgroupManagerDuration: histogram(
      'kubelet_cgroup_manager_duration_seconds',
      '[ALPHA] Seconds cgroup manager operations took, by operation (create, update, destroy).',
      DEFAULT_BUCKETS,
      ['operation_type'],
    ),
    plegRelistDuration: histogram('kubelet_pleg_relist_duration_seconds', '[ALPHA] Seconds one PLEG relist took.', DEFAULT_BUCKETS),
    plegRelistInterval: histogram(
      'kubelet_pleg_relist_interval_seconds',
      '[ALPHA] Seconds between the starts of consecutive PLEG relists.',
      DEFAULT_BUCKETS,
    ),
    runtimeOperations,
    runtimeOperationsErrors,
    runtimeOperationsDuration,
    evictions: counter('kubelet_evictions', '[ALPHA] Pods evicted, by the eviction signal that caused it.', ['eviction_signal']),
    evictionStatsAge: histogram(
      'kubelet_eviction_stats_age_seconds',
      '[ALPHA] Age in seconds of the stats an eviction was decided on, by signal.',
      DEFAULT_BUCKETS,
      ['eviction_signal'],
    ),
    preemptions: counter('kubelet_preemptions', '[ALPHA] Pods preempted to admit critical pods, by resource.', ['preemption_signal']),
    startedPods: counter('kubelet_started_pods_total', '[ALPHA] Pod sandboxes the kubelet asked the runtime to create.'),
    startedPodsErrors: counter('kubelet_started_pods_errors_total', '[ALPHA] Pod sandbox creations that failed.'),
    startedContainers: counter(
      'kubelet_started_containers_total',
      '[ALPHA] Containers the kubelet started, by container type.',
      ['container_type'],
    ),
    startedContainersErrors: counter(
      'kubelet_started_containers_errors_total',
      '[ALPHA] Container starts that failed, by container type and error code.',
      ['container_type', 'code'],
    ),
    restartedPods: counter(
      'kubelet_restarted_pods_total',
      '[ALPHA] Pods deleted and recreated with the same UID (static pods mostly), by whether the pod is static.',
      ['static'],
    ),
    orphanedRuntimePods: counter(
      'kubelet_orphaned_runtime_pods_total',
      '[ALPHA] Pods found running in the container runtime that no pod source or pod worker knows (usually a pod force-deleted while the kubelet was down).',
    ),
    desiredPods: gauge('kubelet_desired_pods', '[ALPHA] Pods the kubelet is told to run, by whether they are static.', ['static']),
    activePods: gauge('kubelet_active_pods', '[ALPHA] Pods the kubelet considers active, by whether they are static.', ['static']),
    mirrorPods: gauge('kubelet_mirror_pods', '[ALPHA] Mirror pods the kubelet keeps on the API server.'),
    containersPerPod: histogram(
      'kubelet_containers_per_pod_count',
      '[ALPHA] Containers per pod, counted when a pod is started.',
      CONTAINERS_PER_POD_BUCKETS,
    ),
    nodeName,
    nodeConfigError: gauge(
      'kubelet_node_config_error',
      '[ALPHA] 1 when the kubelet configuration was rejected or conflicts with the runtime (e.g. cgroupDriver), else 0. ' +
        'Kept from Dynamic Kubelet Config, which upstream kubelets have since removed together with this metric.',
    ),
    proberProbeTotal,
    proberProbeDuration,
    volumeManagerTotalVolumes,

    setNodeName(node) {
      nodeName.reset();
      nodeName.set({ node }, 1);
    },
    setRunningContainers(counts) {
      for (const state of ['created', 'running', 'exited', 'unknown'] as const) {
        runningContainers.set({ container_state: state }, counts[state] ?? 0);
      }
    },
    async timeRuntimeOperation(operationType, clock, call) {
      const labels = { operation_type: operationType };
      const started = clock.monotonic();
      runtimeOperations.inc(labels);
      try {
        return await call();
      } catch (err) {
        runtimeOperationsErrors.inc(labels);
        throw err;
      } finally {
        runtimeOperationsDuration.observe(labels, (clock.monotonic() - started) / 1000);
      }
    },
    recordProbe(o) {
      proberProbeTotal.inc({
        probe_type: o.probeType,
        result: o.result,
        container: o.container,
        pod: o.pod,
        namespace: o.namespace,
        pod_uid: o.podUid,
      });
      if (o.result !== 'failed') {
        proberProbeDuration.observe(
          { probe_type: o.probeType, container: o.container, pod: o.pod, namespace: o.namespace },
          o.durationSeconds,
        );
      }
    },
    setVolumeCountsSource(source) {
      volumeSource = source;
    },
  };
}
