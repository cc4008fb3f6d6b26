import { DEFAULT_EVICTION_HARD } from '../eviction/defaults.js';
import type { KubeletConfiguration } from './types.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Upstream v1beta1 defaults (SetDefaults_KubeletConfiguration) for a configuration that sets
 * nothing. Fields whose defaults depend on other fields (nodeStatusReportFrequency,
 * serializeImagePulls, evictionHard, podPidsLimit) are finished by `applyDependentDefaults`.
 */
export function defaultKubeletConfiguration(): KubeletConfiguration {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    enableServer: true,
    staticPodPath: '',
    podLogsDir: '/var/log/pods',
    syncFrequency: MINUTE,
    fileCheckFrequency: 20 * SECOND,
    httpCheckFrequency: 20 * SECOND,
    address: '0.0.0.0',
    port: 10250,
    readOnlyPort: 0,
    healthzPort: 10248,
    healthzBindAddress: '127.0.0.1',
    registryPullQPS: 5,
    registryBurst: 10,
    eventRecordQPS: 50,
    eventBurst: 100,
    oomScoreAdj: -999,
    clusterDomain: '',
    clusterDNS: [],
    streamingConnectionIdleTimeout: 4 * HOUR,
    nodeStatusUpdateFrequency: 10 * SECOND,
    nodeStatusReportFrequency: 5 * MINUTE,
    nodeLeaseDurationSeconds: 40,
    imageMinimumGCAge: 2 * MINUTE,
    imageMaximumGCAge: 0,
    imageGCHighThresholdPercent: 85,
    imageGCLowThresholdPercent: 80,
    volumeStatsAggPeriod: MINUTE,
    cgroupRoot: '',
    cgroupsPerQOS: true,
    cgroupDriver: 'cgroupfs',
    cpuManagerPolicy: 'none',
    memoryManagerPolicy: 'None',
    topologyManagerPolicy: 'none',
    topologyManagerScope: 'container',
    runtimeRequestTimeout: 2 * MINUTE,
    hairpinMode: 'promiscuous-bridge',
    maxPods: 110,
    podCIDR: '',
    podPidsLimit: -1,
    resolvConf: '/etc/resolv.conf',
    cpuCFSQuota: true,
    cpuCFSQuotaPeriod: 100,
    nodeStatusMaxImages: 50,
    maxOpenFiles: 1_000_000,
    kubeAPIQPS: 50,
    kubeAPIBurst: 100,
    serializeImagePulls: true,
    maxParallelImagePulls: null,
    evictionHard: { ...DEFAULT_EVICTION_HARD },
    evictionSoft: {},
    evictionSoftGracePeriod: {},
    evictionPressureTransitionPeriod: 5 * MINUTE,
    evictionMaxPodGracePeriod: 0,
    evictionMinimumReclaim: {},
    mergeDefaultEvictionSettings: false,
    podsPerCore: 0,
    enableControllerAttachDetach: true,
    featureGates: {},
    failSwapOn: true,
    containerLogMaxSize: '10Mi',
    containerLogMaxFiles: 5,
    containerLogMaxWorkers: 1,
    containerLogMonitorInterval: 10 * SECOND,
    systemReserved: {},
    kubeReserved: {},
    systemReservedCgroup: '',
    kubeReservedCgroup: '',
    enforceNodeAllocatable: ['pods'],
    allowedUnsafeSysctls: [],
    providerID: '',
    shutdownGracePeriod: 0,
    shutdownGracePeriodCriticalPods: 0,
    crashLoopBackOff: { maxContainerRestartPeriod: null },
    seccompDefault: false,
    registerNode: true,
    registerWithTaints: [],
    localStorageCapacityIsolation: true,
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    imageServiceEndpoint: '',
  };
}

/**
 * Defaults that depend on what the file set (`explicit` = fields present with a non-unset value):
 * - nodeStatusReportFrequency follows an explicitly set nodeStatusUpdateFrequency;
 * - serializeImagePulls is false when maxParallelImagePulls ≥ 2 and it was not set;
 * - evictionHard keeps the default map only when unset (an explicit map replaces it).
 */
export function applyDependentDefaults(config: KubeletConfiguration, explicit: ReadonlySet<string>): void {
  if (!explicit.has('nodeStatusReportFrequency') && explicit.has('nodeStatusUpdateFrequency')) {
    config.nodeStatusReportFrequency = config.nodeStatusUpdateFrequency;
  }
  if (!explicit.has('serializeImagePulls')) {
    config.serializeImagePulls = config.maxParallelImagePulls === null || config.maxParallelImagePulls < 2;
  }
}

/**
 * After flags: `mergeDefaultEvictionSettings: true` fills default hard thresholds the user left out;
 * a negative podPidsLimit means "no limit" and is normalised to -1.
 */
export function applyFinalDefaults(config: KubeletConfiguration): void {
  if (config.mergeDefaultEvictionSettings) {
    for (const [signal, value] of Object.entries(DEFAULT_EVICTION_HARD)) {
      if (!(signal in config.evictionHard)) config.evictionHard[signal] = value;
    }
  }
  if (config.podPidsLimit < 0) config.podPidsLimit = -1;
}
