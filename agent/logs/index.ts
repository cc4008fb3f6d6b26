/** Container log rotation through the CRI (upstream kuberuntime/logs). */
export {
  ContainerLogManager,
  DEFAULT_CONTAINER_LOG_MAX_FILES,
  DEFAULT_CONTAINER_LOG_MAX_SIZE,
  DEFAULT_CONTAINER_LOG_MAX_WORKERS,
  DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS,
  type ContainerLogManagerOptions,
} from './container-log-manager.js';
export { COMPRESS_SUFFIX, TMP_SUFFIX, excessLogs, filterUnusedLogs, rotationTimestamp } from './rotation.js';
/** Reading container logs for `kubectl logs` (upstream kuberuntime/logs ReadLogs). */
export { readLogs, LOG_FORCE_CHECK_PERIOD_MS, type LogSink, type ReadLogsDeps } from './read-logs.js';
export { LogWriter, findTailLineStart, type LogChunk } from './log-writer.js';
export { decodePodLogQuery, kubeletLogQuery, newLogOptions, validatePodLogOptions, type LogOptions, type PodLogOptions } from './pod-log-options.js';
export { parseCriLog, parseCriLogLine, parseRfc3339Nano, fixedNanoTimestamp, type LogMessage } from './cri-log-format.js';
