/**
 * Package entry of kubelet-harness: the kubelet decision logic as a pure library, the clock, the
 * journal, and the programmatic starts of the fakes and the agent.
 */
export type { Clock, TimerHandle } from './clock/index.js';
export { RealClock, VirtualClock, realClock } from './clock/index.js';
export { Journal, match, type JournalEntry, type JournalInput, type JournalSource } from '../fakes/journal/journal.js';
export { assertHappensBefore, happenedBefore, step, OrderViolation } from '../fakes/journal/happens-before.js';
// Probe workers (issue 6): simulateProbes, the pure worker core, the manager and its results caches.
export {
  simulateProbes,
  parseProbeScenario,
  ProbeScenarioRunner,
  ProbeManager,
  ResultsCache,
  newWorkerState,
  stepWorker,
  effectiveProbe,
  firstIterationDelaySeconds,
  nextIterationAt,
  INITIAL_RESULT,
  PROBE_TYPES,
  type ProbeScenario,
  type ProbeScenarioEvent,
  type ProbeSimulation,
  type EffectiveProbe,
  type ProbeOutcome,
  type ProbeResult,
  type ProbeType,
  type WorkerKey,
  type WorkerEventResult,
  type WorkerState,
  type WorkerEvent,
  type WorkerEffect,
  type WorkerStep,
  type WorkerObservation,
  type ContainerObservation,
  type WorkerExitReason,
  type ResultUpdate,
  type ResultListener,
} from './prober/index.js';
// The running prober (clock-driven workers with real httpGet/tcpSocket/exec/grpc handlers).
export { RunningProbeManager, runProbe, probeUserAgent, type RunningProbeManagerOptions, type ProbeRun, type ProbeTarget } from './prober/index.js';
// Restart backoff and kill grace periods (issue 6).
export { simulateCrashLoop, parseCrashLoopScenario, type CrashLoopInstance, type CrashLoopScenario, type CrashLoopSimulation } from './lifecycle/crashloop-simulation.js';
export { CrashLoopBackOff, DEFAULT_CRASHLOOP_BACKOFF, crashLoopBackOffDecision, isInBackOffSince, nextBackoff, backoffExpired, parseBackoffPolicy, type BackoffDecision, type BackoffEntry, type BackoffPolicy } from './lifecycle/backoff.js';
export { shouldContainerBeRestarted } from './lifecycle/restart-policy.js';
export { killGracePeriodSeconds, stopContainerTimeoutSeconds, type KillReason } from './lifecycle/kill-grace-period.js';
export { InvalidInputError } from './util/invalid-input.js';
export { createCriClient, type CriClient, type CriClientOptions } from './runtime/cri-client.js';
export { RpcError, CriError, CsiError, type RpcErrorKind } from './runtime/rpc-error.js';
export { loadCriProto, loadCsiProto, PROTO_LOADER_OPTIONS } from './runtime/proto.js';
export { createCsiClient, type CsiClient, type CsiClientOptions } from './volumes/csi-client.js';
export {
  Quantity,
  QuantityFieldError,
  QuantityParseError,
  parseQuantity,
  computePodQOS,
  podQOSClass,
  defaultPodRequests,
  podRequests,
  type QOSClass,
  type QuantityErrorCode,
  type QuantityFormat,
} from './resources/index.js';
export {
  nodeAllocatable,
  nodeAllocatableReservation,
  hardEvictionReservation,
  podFitsResources,
  type NodeAllocatableInput,
  type PodFitContext,
  type PodFitResult,
} from './resources/index.js';
export {
  parseEvictionThresholds,
  evictionConfigFromFlags,
  thresholdQuantity,
  thresholdsMet,
  thresholdsFirstObservedAt,
  thresholdsMetGracePeriod,
  nodeConditions,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  evaluateEvictionRound,
  INITIAL_EVICTION_ROUND_STATE,
  thresholdToReclaim,
  evictionGracePeriodOverride,
  evictionMessage,
  signalObservationsFromSummary,
  podUsageFromStats,
  type StatsSummary,
  evictionAdmit,
  rankPodsForEviction,
  isCriticalPod,
  selectPodToEvict,
  DEFAULT_EVICTION_HARD,
  type EvictionSignal,
  type EvictionThresholdConfig,
  type EvictionFlags,
  type Threshold,
  type ThresholdValue,
  type MetThreshold,
  type SignalObservations,
  type PressureCondition,
  type PodUsage,
  type RankOptions,
  type EvictionRoundState,
} from './eviction/index.js';
// Running managers over the CRI: the eviction manager (and its CRI stats summary).
export { EvictionManager, criStatsSummary, type EvictionManagerOptions, type EvictionKill, type EvictionMachineInfo } from './eviction/index.js';
export { ContainerLogManager, type ContainerLogManagerOptions } from './logs/index.js';
// `kubectl logs`: the CRI log reader and the kubelet server's /containerLogs.
export { readLogs, newLogOptions, decodePodLogQuery, validatePodLogOptions, type LogOptions, type PodLogOptions } from './logs/index.js';
export { startKubeletServer, type KubeletServer, type KubeletServerOptions } from './server/kubelet-server.js';
export { containerForLogs } from './server/container-log-status.js';
export { execUrl, parseExecPath, streamOptions, type ExecHost, type ExecTarget, type StreamOptions } from './server/exec.js';
export { attachUrl } from './server/exec.js';
export { parsePortForwardPath, parsePortQuery, portForwardUrl, type PortForwardTarget } from './server/port-forward.js';
export { proxyUpgrade } from './server/upgrade-proxy.js';
// Kubelet configuration (KubeletConfiguration v1beta1 + kubelet flags) and metrics/healthz.
export {
  loadKubeletConfig,
  defaultKubeletConfiguration,
  parseKubeletArgs,
  parseGoDuration,
  formatGoDuration,
  type KubeletConfiguration,
  type LoadedKubeletConfig,
  type LoadKubeletConfigInput,
  type KubeletFlags,
} from './config/index.js';
export { createKubeletMetrics, startHealthAndMetricsServer, type KubeletMetrics, type HealthAndMetricsServer } from './metrics/index.js';
// Fake CSI driver, CNI plugin installer, journal sink for out-of-process writers.
export { startFakeCsi, type FakeCsi, type StartFakeCsiOptions } from '../fakes/csi/server.js';
export {
  startFakeCri,
  openFakeCriTarget,
  FAKE_TEST_IMAGES,
  FaultInjector as FakeCriFaultInjector,
  faultRulesFromJson as fakeCriFaultRulesFromJson,
  type FakeCri,
  type StartFakeCriOptions,
  type FaultRule as FakeCriFaultRule,
  type FaultEffect as FakeCriFaultEffect,
  type ImagePullRule,
  runChannelExec,
  UpgradeRefused,
  type ChannelExecOptions,
  type ChannelExecResult,
} from '../fakes/cri/index.js';
export { installCniPlugin } from '../fakes/cni/install.js';
export { startMockApiServer, KUBE_APISERVER_MAX_BODY_BYTES, type MockApiServer, type MockApiServerOptions, type WatchFaults } from '../fakes/apiserver/server.js';
export type { FaultRule as ApiServerFaultRule } from '../fakes/apiserver/faults.js';
export { InformerProbe } from '../fakes/apiserver/informer-probe.js';
export { startJournalSink, type JournalSink } from '../fakes/journal/sink.js';
// Volume manager (emptyDir, hostPath, configMap, secret, CSI inline and PVC-backed volumes).
export { VolumeManager, PodVolumesError, VolumeError, classifyPodVolumes, apiVolumeObjectSource, type MountedVolume, type VolumeObjectSource, type CsiDriverRegistration } from './volumes/index.js';
// Reference kubelet (issue 5): the pure decisions it runs on, and the agent itself.
export { computePodActions, podSandboxChanged, shouldContainerBeRestarted as shouldRuntimeContainerBeRestarted, type PodActions, type ContainerToKill, type ProbeResultsView } from './kuberuntime/compute-pod-actions.js';
export type { RuntimePodStatus, RuntimeContainerStatus, RuntimeSandboxStatus, RuntimeContainerState } from './kuberuntime/runtime-status.js';
export { milliCpuToShares, milliCpuToQuota, burstableOomScoreAdj, GUARANTEED_OOM_SCORE_ADJ, BESTEFFORT_OOM_SCORE_ADJ } from './kuberuntime/cpu-memory.js';
export { containerLinuxResources, containerOomScoreAdj, sandboxLinuxResources, sandboxOverheadResources, podLimits, type CriLinuxResources, type CriResourceOptions } from './kuberuntime/resources.js';
export { generatePodSandboxConfig, type SandboxConfigOptions } from './kuberuntime/sandbox-config.js';
export { generateContainerConfig, type ContainerConfigOptions } from './kuberuntime/container-config.js';
export { ephemeralContainersOf, ephemeralContainersToStart, targetContainerId, withPidTarget, TargetContainerError } from './kuberuntime/ephemeral-containers.js';
export { podCgroupParent, type CgroupDriver } from './kuberuntime/cgroup-name.js';
export { podResourceConfig, qosResourceConfigs, nodeAllocatableResourceConfig, type ResourceConfig, type PodCgroupOptions } from './cm/resource-config.js';
export { CgroupManager, CgroupBusyError, type CgroupName } from './cm/cgroup-manager.js';
export { PodContainerManager, type ContainerManagerOptions } from './cm/container-manager.js';
export { podCgroupsDecision, type PodCgroupsDecision } from './cm/activation.js';
export { createStandInCgroupRoot } from './cm/stand-in-root.js';
export { podDnsConfig, parseResolvConf, type DnsSettings } from './kuberuntime/dns.js';
export { expandVars } from './kuberuntime/expansion.js';
export { managedHostsFileContent, nodeHostsFileContent, podEtcHosts, shouldManageEtcHosts } from './kuberuntime/etc-hosts.js';
export { serviceEnvForPod, serviceEnvVars, isServiceIPSet } from './kuberuntime/service-env.js';
export { restartCountFromLogNames, type LogDirEntry } from './kuberuntime/restart-count.js';
export {
  terminationMessageSource,
  messageFromFile,
  lastLogText,
  joinMessages,
  limitTerminationMessages,
  type TerminationMessageSource,
  type ExitedContainerInfo,
  type FileRead,
} from './kuberuntime/termination-message.js';
export { generateApiPodStatus, type GenerateStatusInput, type ProbeStatusView } from './status/generate.js';
export { getPhase, type PodPhase as KubeletPodPhase } from './status/phase.js';
export { buildNodeStatus, initialNode, type NodeStatusInput, type RuntimeHealth } from './nodestatus/node-status.js';
export { fakeMachine, hostMachine, type MachineInfo, type FakeMachineSpec } from './nodestatus/machine.js';
export { admitPod, type AdmitResult } from './admission/admit.js';
export { parseStaticPodManifest } from './staticpods/manifest.js';
export { relistDiff, type PlegEvent } from './pleg/relist-diff.js';
export { Kubelet, KUBELET_VERSION, type KubeletOptions } from './kubelet.js';
export { startEmbeddedNode, FAKE_CSI_DRIVER, type EmbeddedNode, type EmbeddedNodeOptions } from './embedded-node.js';
export {
  planPodResize,
  resizeDecision,
  changedResources,
  desiredResources,
  isResizeInProgress,
  requiresRestart,
  type ResizeStep,
  type ResizeDecision,
  type ResizeResource,
} from './kuberuntime/pod-resize.js';
export { allocationFromPod, podWithAllocation, resizeRequested, resizeFeasibility, type PodAllocation, type ResizeFeasibility } from './allocation/allocation.js';
export { applyResizeStatus, appliedResources, POD_RESIZE_PENDING, POD_RESIZE_IN_PROGRESS } from './allocation/resize-status.js';
export { AllocationManager, RESIZE_EVENTS } from './allocation/allocation-manager.js';
export { ALLOCATION_CHECKPOINT_FILE, FileAllocationStore, CorruptCheckpointError, encodeCheckpoint, decodeCheckpoint, type AllocationStore } from './allocation/checkpoint.js';
