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
