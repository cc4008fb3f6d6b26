import type { Milliseconds } from './duration.js';

/** A taint the node registers with (`registerWithTaints`). */
export interface ConfigTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/**
 * KubeletConfiguration (kubelet.config.k8s.io/v1beta1) after decoding, defaulting and flag
 * overrides. Field names are upstream's. Durations are milliseconds; quantities stay as their
 * text (validated), for agent/resources to parse where they are used.
 */
export interface KubeletConfiguration {
  apiVersion: 'kubelet.config.k8s.io/v1beta1';
  kind: 'KubeletConfiguration';
  enableServer: boolean;
  staticPodPath: string;
  podLogsDir: string;
  syncFrequency: Milliseconds;
  fileCheckFrequency: Milliseconds;
  httpCheckFrequency: Milliseconds;
  address: string;
  port: number;
  readOnlyPort: number;
  healthzPort: number;
  healthzBindAddress: string;
  registryPullQPS: number;
  registryBurst: number;
  eventRecordQPS: number;
  eventBurst: number;
  oomScoreAdj: number;
  clusterDomain: string;
  clusterDNS: string[];
  streamingConnectionIdleTimeout: Milliseconds;
  nodeStatusUpdateFrequency: Milliseconds;
  nodeStatusReportFrequency: Milliseconds;
  nodeLeaseDurationSeconds: number;
  imageMinimumGCAge: Milliseconds;
  imageMaximumGCAge: Milliseconds;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  volumeStatsAggPeriod: Milliseconds;
  cgroupRoot: string;
  cgroupsPerQOS: boolean;
  cgroupDriver: 'cgroupfs' | 'systemd';
  cpuManagerPolicy: string;
  memoryManagerPolicy: string;
  topologyManagerPolicy: 'none' | 'best-effort' | 'restricted' | 'single-numa-node';
  topologyManagerScope: 'container' | 'pod';
  runtimeRequestTimeout: Milliseconds;
  hairpinMode: 'promiscuous-bridge' | 'hairpin-veth' | 'none';
  maxPods: number;
  podCIDR: string;
  podPidsLimit: number;
  resolvConf: string;
  cpuCFSQuota: boolean;
  cpuCFSQuotaPeriod: Milliseconds;
  nodeStatusMaxImages: number;
  maxOpenFiles: number;
  kubeAPIQPS: number;
  kubeAPIBurst: number;
  serializeImagePulls: boolean;
  /** null = unset (then serializeImagePulls decides). */
  maxParallelImagePulls: number | null;
  evictionHard: Record<string, string>;
  evictionSoft: Record<string, string>;
  evictionSoftGracePeriod: Record<string, string>;
  evictionPressureTransitionPeriod: Milliseconds;
  evictionMaxPodGracePeriod: number;
  evictionMinimumReclaim: Record<string, string>;
  mergeDefaultEvictionSettings: boolean;
  podsPerCore: number;
  enableControllerAttachDetach: boolean;
  featureGates: Record<string, boolean>;
  failSwapOn: boolean;
  containerLogMaxSize: string;
  containerLogMaxFiles: number;
  containerLogMaxWorkers: number;
  containerLogMonitorInterval: Milliseconds;
  systemReserved: Record<string, string>;
  kubeReserved: Record<string, string>;
  systemReservedCgroup: string;
  kubeReservedCgroup: string;
  enforceNodeAllocatable: string[];
  allowedUnsafeSysctls: string[];
  providerID: string;
  shutdownGracePeriod: Milliseconds;
  shutdownGracePeriodCriticalPods: Milliseconds;
  /** null = unset (only valid with the KubeletCrashLoopBackOffMax gate). */
  crashLoopBackOff: { maxContainerRestartPeriod: Milliseconds | null };
  seccompDefault: boolean;
  registerNode: boolean;
  registerWithTaints: ConfigTaint[];
  localStorageCapacityIsolation: boolean;
  containerRuntimeEndpoint: string;
  imageServiceEndpoint: string;
}

/** Settings kubelet takes only as flags (not part of KubeletConfiguration). */
export interface KubeletFlagOnlySettings {
  /** `--node-name` / `--hostname-override`; undefined = the machine's hostname. */
  nodeName?: string;
  /** `--root-dir` (default /var/lib/kubelet). */
  rootDir: string;
  /** `--kubeconfig`. */
  kubeconfig?: string;
  /** `--config`: the file the caller read `fileText` from (for messages). */
  configFile?: string;
  /** `--node-ip`: the address(es) to report for the node, comma-separated (dual stack). */
  nodeIP?: string;
  /** `--node-labels k=v,...`: labels the node registers with. */
  nodeLabels?: Record<string, string>;
}

/** One problem found in the configuration; `field` is the config path (e.g. `evictionHard[memory.availabel]`). */
export interface ConfigProblem {
  field: string;
  message: string;
}
