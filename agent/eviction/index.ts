/** Pure eviction-manager logic: thresholds, evaluation, node conditions, ranking and admission. */
export { EVICTION_SIGNALS, isEvictionSignal, signalCondition, signalResource, type EvictionSignal, type PressureCondition, type SignalResource } from './signals.js';
export { DEFAULT_ENFORCE_NODE_ALLOCATABLE, DEFAULT_EVICTION_HARD, DEFAULT_PRESSURE_TRANSITION_PERIOD_SECONDS } from './defaults.js';
export {
  formatThresholdValue,
  isHardEvictionThreshold,
  parseEvictionThresholds,
  parseFloat32,
  thresholdQuantity,
  type EvictionThresholdConfig,
  type Threshold,
  type ThresholdValue,
} from './thresholds.js';
export { evictionConfigFromFlags, type EvictionFlags } from './flags.js';
export {
  INITIAL_EVICTION_ROUND_STATE,
  evaluateEvictionRound,
  nodeConditions,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  thresholdsFirstObservedAt,
  thresholdsMet,
  thresholdsMetGracePeriod,
  thresholdToReclaim,
  thresholdsUpdatedStats,
  type EvictionRoundInput,
  type EvictionRoundResult,
  type EvictionRoundState,
  type MetThreshold,
  type SignalObservation,
  type SignalObservations,
  type ThresholdsObservedAt,
} from './evaluation.js';
export {
  SYSTEM_CRITICAL_PRIORITY,
  evictionRequest,
  isCriticalPod,
  podPriority,
  rankPodsForEviction,
  selectPodToEvict,
  type FilesystemLayout,
  type MissingStatsPolicy,
  type PodUsage,
  type RankOptions,
  type RankedPodInput,
} from './ranking.js';
export { evictionAdmit, type EvictionAdmitResult } from './admission.js';
export { IMMEDIATE_EVICTION_GRACE_PERIOD_SECONDS, evictionGracePeriodOverride } from './grace-period.js';
export { evictionMessage, type ContainerUsage, type EvictionMessage, type EvictionMessageInput } from './message.js';
export { localVolumeNames, podUsageFromStats, signalObservationsFromSummary, type StatsSummary, type SummaryPodStats } from './observations.js';
export { criStatsSummary, type CriStatsSnapshot, type DiskUsage, type EvictionMachineInfo, type FilesystemInfo, type PodDiskUsage } from './cri-stats-summary.js';
export { declaredEvictionMachine, hostEvictionMachine, measuredFilesystem, type MachineReservations } from './machine.js';
export {
  EVICTION_MONITORING_INTERVAL_MS,
  EvictionManager,
  type EvictedPod,
  type EvictionKill,
  type EvictionManagerOptions,
  type EvictionRoundReport,
  type NodeConditionsListener,
} from './manager.js';
export { localStorageViolation, podEphemeralStorageLimit, type LocalStorageEvictionSignal, type LocalStorageUsage, type LocalStorageViolation } from './local-storage.js';
