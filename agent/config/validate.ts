import { isIP } from 'node:net';
import { posix } from 'node:path';
import type { ConfigProblem, KubeletConfiguration } from './types.js';

const ENFORCE_KEYS = ['pods', 'system-reserved', 'system-reserved-compressible', 'kube-reserved', 'kube-reserved-compressible', 'none'];
const RESERVABLE = ['cpu', 'memory', 'ephemeral-storage', 'pid'];

/** Minimal view of agent/resources' Quantity that validation needs. */
export interface QuantityView {
  sign(): number;
}

/** Parsers owned by other modules (agent/resources, agent/eviction), injected so this stays pure. */
export interface ValidationParsers {
  /** Throws (an Error with `code`) on invalid text. */
  parseQuantity(text: string): QuantityView;
  /** Throws an Error naming the offending signal/value on invalid thresholds. */
  checkEvictionThresholds(config: KubeletConfiguration): void;
}

/**
 * Semantic validation of a defaulted, flag-merged configuration, following kubelet's
 * ValidateKubeletConfiguration (pkg/kubelet/apis/config/validation) plus the parse-time checks kubelet
 * does elsewhere (reserved resources, container log size, eviction thresholds). Every problem is
 * reported, not just the first. Where upstream would panic or fail later at runtime (non-positive
 * periods), this rejects the value up front.
 */
export function validateKubeletConfiguration(c: KubeletConfiguration, parsers: ValidationParsers): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bad = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  const nonNegative = (field: keyof KubeletConfiguration): void => {
    const value = c[field] as number;
    if (value < 0) bad(field, `must not be a negative number (got ${value})`);
  };
  const positivePeriod = (field: keyof KubeletConfiguration): void => {
    if ((c[field] as number) <= 0) bad(field, 'must be a positive duration');
  };
  const port = (field: 'port' | 'healthzPort' | 'readOnlyPort', allowZero: boolean): void => {
    const value = c[field];
    if (allowZero && value === 0) return;
    if (value < 1 || value > 65535) bad(field, `${value} must be between ${allowZero ? 0 : 1} and 65535, inclusive`);
  };

  if (c.nodeLeaseDurationSeconds <= 0) bad('nodeLeaseDurationSeconds', 'must be greater than 0');
  for (const f of ['eventBurst', 'eventRecordQPS', 'kubeAPIBurst', 'kubeAPIQPS', 'registryBurst', 'registryPullQPS', 'maxOpenFiles', 'maxPods', 'podsPerCore', 'evictionMaxPodGracePeriod'] as const) {
    nonNegative(f);
  }
  for (const f of ['syncFrequency', 'fileCheckFrequency', 'httpCheckFrequency', 'nodeStatusUpdateFrequency', 'nodeStatusReportFrequency', 'runtimeRequestTimeout', 'evictionPressureTransitionPeriod', 'volumeStatsAggPeriod', 'streamingConnectionIdleTimeout'] as const) {
    positivePeriod(f);
  }
  port('port', false);
  port('healthzPort', true);
  port('readOnlyPort', true);
  for (const f of ['healthzBindAddress', 'address'] as const) {
    if (isIP(c[f]) === 0) bad(f, `${JSON.stringify(c[f])} is not an IP address`);
  }
  for (const f of ['imageGCHighThresholdPercent', 'imageGCLowThresholdPercent'] as const) {
    if (c[f] < 0 || c[f] > 100) bad(f, `${c[f]} must be between 0 and 100, inclusive`);
  }
  if (c.imageGCLowThresholdPercent >= c.imageGCHighThresholdPercent) {
    bad('imageGCLowThresholdPercent', `${c.imageGCLowThresholdPercent} must be less than imageGCHighThresholdPercent ${c.imageGCHighThresholdPercent}`);
  }
  if (c.imageMinimumGCAge < 0) bad('imageMinimumGCAge', 'must not be negative');
  if (c.imageMaximumGCAge < 0) bad('imageMaximumGCAge', 'must not be negative');
  if (c.imageMaximumGCAge > 0 && c.imageMaximumGCAge <= c.imageMinimumGCAge) {
    bad('imageMaximumGCAge', 'must be greater than imageMinimumGCAge');
  }
  if (c.oomScoreAdj < -1000 || c.oomScoreAdj > 1000) bad('oomScoreAdj', `${c.oomScoreAdj} must be between -1000 and 1000, inclusive`);
  if (c.nodeStatusMaxImages < -1) bad('nodeStatusMaxImages', `${c.nodeStatusMaxImages} must be -1 or greater`);
  if (c.maxParallelImagePulls !== null && c.maxParallelImagePulls < 1) {
    bad('maxParallelImagePulls', `${c.maxParallelImagePulls} must be a positive number`);
  }
  if (c.serializeImagePulls && c.maxParallelImagePulls !== null && c.maxParallelImagePulls > 1) {
    bad('maxParallelImagePulls', 'cannot be larger than 1 unless serializeImagePulls is false');
  }
  if (c.cpuCFSQuotaPeriod !== 100 && !c.featureGates.CustomCPUCFSQuotaPeriod) {
    bad('cpuCFSQuotaPeriod', 'requires feature gate CustomCPUCFSQuotaPeriod');
  } else if (c.cpuCFSQuotaPeriod < 1 || c.cpuCFSQuotaPeriod > 1000) {
    bad('cpuCFSQuotaPeriod', 'must be between 1ms and 1sec, inclusive');
  }
  const restartMax = c.crashLoopBackOff.maxContainerRestartPeriod;
  if (c.featureGates.KubeletCrashLoopBackOffMax) {
    if (restartMax === null) bad('crashLoopBackOff.maxContainerRestartPeriod', 'must be set when feature gate KubeletCrashLoopBackOffMax is enabled');
    else if (restartMax < 1000 || restartMax > 300_000) bad('crashLoopBackOff.maxContainerRestartPeriod', 'must be between 1s and 300s');
  } else if (restartMax !== null) {
    bad('crashLoopBackOff.maxContainerRestartPeriod', 'requires feature gate KubeletCrashLoopBackOffMax');
  }
  if ((c.shutdownGracePeriod > 0 && c.shutdownGracePeriod < 1000) || c.shutdownGracePeriod < 0) {
    bad('shutdownGracePeriod', 'must be either zero or otherwise >= 1 sec');
  }
  if (c.shutdownGracePeriodCriticalPods > c.shutdownGracePeriod) {
    bad('shutdownGracePeriodCriticalPods', 'must be <= shutdownGracePeriod');
  }

  validateEnforceNodeAllocatable(c, bad);

  if (c.containerRuntimeEndpoint === '') bad('containerRuntimeEndpoint', 'was not specified or empty');
  if (c.containerLogMaxWorkers < 1) bad('containerLogMaxWorkers', 'must be greater than or equal to 1');
  if (c.containerLogMonitorInterval < 3000) bad('containerLogMonitorInterval', 'must be a positive time duration greater than or equal to 3s');
  if (c.containerLogMaxFiles <= 1) bad('containerLogMaxFiles', 'must be greater than 1');
  try {
    if (parsers.parseQuantity(c.containerLogMaxSize).sign() < 0) bad('containerLogMaxSize', 'must not be negative');
  } catch (err) {
    bad('containerLogMaxSize', `invalid quantity ${JSON.stringify(c.containerLogMaxSize)}: ${(err as Error).message}`);
  }
  if (!posix.isAbsolute(c.podLogsDir)) bad('podLogsDir', `${JSON.stringify(c.podLogsDir)} must be an absolute path`);
  else if (posix.normalize(c.podLogsDir).replace(/(.)\/$/, '$1') !== c.podLogsDir) bad('podLogsDir', `${JSON.stringify(c.podLogsDir)} must be normalized`);
  if (/[^\x00-\x7f]/.test(c.podLogsDir)) bad('podLogsDir', 'must contain ASCII characters only');

  for (const field of ['kubeReserved', 'systemReserved'] as const) {
    for (const [resource, text] of Object.entries(c[field])) {
      const at = `${field}[${JSON.stringify(resource)}]`;
      if (!RESERVABLE.includes(resource)) {
        bad(at, `cannot reserve ${JSON.stringify(resource)} resource (supported: ${RESERVABLE.join(', ')})`);
        continue;
      }
      try {
        if (parsers.parseQuantity(text).sign() < 0) bad(at, `resource quantity cannot be negative: ${text}`);
      } catch (err) {
        bad(at, `failed to parse quantity ${JSON.stringify(text)}: ${(err as Error).message}`);
      }
    }
  }
  try {
    parsers.checkEvictionThresholds(c);
  } catch (err) {
    // InvalidInputError carries the field and the bare problem; other errors only a message.
    const { field, problem } = err as { field?: unknown; problem?: unknown };
    problems.push({
      field: typeof field === 'string' ? field : 'eviction',
      message: typeof problem === 'string' ? problem : (err as Error).message,
    });
  }
  return problems;
}

function validateEnforceNodeAllocatable(c: KubeletConfiguration, bad: (field: string, message: string) => void): void {
  const field = 'enforceNodeAllocatable';
  const seen = new Set<string>();
  for (const key of c.enforceNodeAllocatable) {
    if (seen.has(key)) {
      bad(field, `duplicated enforcement ${JSON.stringify(key)}`);
      continue;
    }
    seen.add(key);
    if (!ENFORCE_KEYS.includes(key)) {
      bad(field, `unsupported option ${JSON.stringify(key)}; valid options are ${ENFORCE_KEYS.map((k) => JSON.stringify(k)).join(', ')}`);
      continue;
    }
    if (key === 'none') {
      if (c.enforceNodeAllocatable.length > 1) bad(field, 'may not contain additional enforcements when "none" is specified');
      continue;
    }
    if (key.startsWith('system-reserved') && c.systemReservedCgroup === '') {
      bad('systemReservedCgroup', `must be specified when ${JSON.stringify(key)} is in enforceNodeAllocatable`);
    }
    if (key.startsWith('kube-reserved') && c.kubeReservedCgroup === '') {
      bad('kubeReservedCgroup', `must be specified when ${JSON.stringify(key)} is in enforceNodeAllocatable`);
    }
    if (!c.cgroupsPerQOS) bad('cgroupsPerQOS', `must be true when ${JSON.stringify(key)} is in enforceNodeAllocatable`);
  }
  if (seen.has('system-reserved') && seen.has('system-reserved-compressible')) {
    bad(field, '"system-reserved" and "system-reserved-compressible" cannot be specified together');
  }
  if (seen.has('kube-reserved') && seen.has('kube-reserved-compressible')) {
    bad(field, '"kube-reserved" and "kube-reserved-compressible" cannot be specified together');
  }
}
