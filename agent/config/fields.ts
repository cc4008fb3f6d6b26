import type { KubeletConfiguration } from './types.js';

/**
 * How each modelled KubeletConfiguration field is decoded, defaulted and set from a flag.
 * `zeroIsUnset` mirrors upstream's non-pointer Go fields, where defaulting cannot tell an explicit
 * zero from an absent field (e.g. `maxPods: 0` in the file becomes 110; `--max-pods=0` stays 0,
 * because flags are applied after defaulting).
 */
export type FieldKind =
  | { type: 'duration' }
  | { type: 'int'; min?: number; max?: number }
  | { type: 'float' }
  | { type: 'bool' }
  | { type: 'string' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'stringMap'; flagSyntax?: 'equals' | 'langle' }
  | { type: 'boolMap' }
  | { type: 'stringList' }
  | { type: 'nullableInt' }
  | { type: 'taints' }
  | { type: 'crashLoopBackOff' };

export interface FieldSpec {
  kind: FieldKind;
  zeroIsUnset?: boolean;
  /** kubelet flag names setting this field (first is the canonical one). */
  flags?: readonly string[];
}

type ModelledField = Exclude<keyof KubeletConfiguration, 'apiVersion' | 'kind'>;

const duration = { type: 'duration' } as const;
const int32 = { type: 'int' } as const;
const bool = { type: 'bool' } as const;
const str = { type: 'string' } as const;
const stringMap = { type: 'stringMap', flagSyntax: 'equals' } as const;

export const CONFIG_FIELDS: Readonly<Record<ModelledField, FieldSpec>> = {
  enableServer: { kind: bool },
  staticPodPath: { kind: str, flags: ['pod-manifest-path'] },
  podLogsDir: { kind: str, zeroIsUnset: true },
  syncFrequency: { kind: duration, zeroIsUnset: true, flags: ['sync-frequency'] },
  fileCheckFrequency: { kind: duration, zeroIsUnset: true, flags: ['file-check-frequency'] },
  httpCheckFrequency: { kind: duration, zeroIsUnset: true, flags: ['http-check-frequency'] },
  address: { kind: str, zeroIsUnset: true, flags: ['address'] },
  port: { kind: int32, zeroIsUnset: true, flags: ['port'] },
  readOnlyPort: { kind: int32, flags: ['read-only-port'] },
  healthzPort: { kind: int32, flags: ['healthz-port'] },
  healthzBindAddress: { kind: str, zeroIsUnset: true, flags: ['healthz-bind-address'] },
  registryPullQPS: { kind: int32, flags: ['registry-qps'] },
  registryBurst: { kind: int32, zeroIsUnset: true, flags: ['registry-burst'] },
  eventRecordQPS: { kind: int32, flags: ['event-qps'] },
  eventBurst: { kind: int32, zeroIsUnset: true, flags: ['event-burst'] },
  oomScoreAdj: { kind: int32, flags: ['oom-score-adj'] },
  clusterDomain: { kind: str, flags: ['cluster-domain'] },
  clusterDNS: { kind: { type: 'stringList' }, flags: ['cluster-dns'] },
  streamingConnectionIdleTimeout: { kind: duration, zeroIsUnset: true, flags: ['streaming-connection-idle-timeout'] },
  nodeStatusUpdateFrequency: { kind: duration, zeroIsUnset: true, flags: ['node-status-update-frequency'] },
  nodeStatusReportFrequency: { kind: duration, zeroIsUnset: true },
  nodeLeaseDurationSeconds: { kind: int32, zeroIsUnset: true },
  imageMinimumGCAge: { kind: duration, zeroIsUnset: true, flags: ['minimum-image-ttl-duration'] },
  imageMaximumGCAge: { kind: duration },
  imageGCHighThresholdPercent: { kind: int32, flags: ['image-gc-high-threshold'] },
  imageGCLowThresholdPercent: { kind: int32, flags: ['image-gc-low-threshold'] },
  volumeStatsAggPeriod: { kind: duration, zeroIsUnset: true, flags: ['volume-stats-agg-period'] },
  cgroupRoot: { kind: str, flags: ['cgroup-root'] },
  cgroupsPerQOS: { kind: bool, flags: ['cgroups-per-qos'] },
  cgroupDriver: { kind: { type: 'enum', values: ['cgroupfs', 'systemd'] }, zeroIsUnset: true, flags: ['cgroup-driver'] },
  cpuManagerPolicy: { kind: { type: 'enum', values: ['none', 'static'] }, zeroIsUnset: true, flags: ['cpu-manager-policy'] },
  memoryManagerPolicy: { kind: { type: 'enum', values: ['None', 'Static'] }, zeroIsUnset: true, flags: ['memory-manager-policy'] },
  topologyManagerPolicy: {
    kind: { type: 'enum', values: ['none', 'best-effort', 'restricted', 'single-numa-node'] },
    zeroIsUnset: true,
    flags: ['topology-manager-policy'],
  },
  topologyManagerScope: { kind: { type: 'enum', values: ['container', 'pod'] }, zeroIsUnset: true, flags: ['topology-manager-scope'] },
  runtimeRequestTimeout: { kind: duration, zeroIsUnset: true, flags: ['runtime-request-timeout'] },
  hairpinMode: {
    kind: { type: 'enum', values: ['promiscuous-bridge', 'hairpin-veth', 'none'] },
    zeroIsUnset: true,
    flags: ['hairpin-mode'],
  },
  maxPods: { kind: int32, zeroIsUnset: true, flags: ['max-pods'] },
  podCIDR: { kind: str, flags: ['pod-cidr'] },
  podPidsLimit: { kind: { type: 'int', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }, flags: ['pod-max-pids'] },
  resolvConf: { kind: str, flags: ['resolv-conf'] },
  cpuCFSQuota: { kind: bool, flags: ['cpu-cfs-quota'] },
  cpuCFSQuotaPeriod: { kind: duration, zeroIsUnset: true, flags: ['cpu-cfs-quota-period'] },
  nodeStatusMaxImages: { kind: int32, flags: ['node-status-max-images'] },
  maxOpenFiles: { kind: { type: 'int', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }, zeroIsUnset: true, flags: ['max-open-files'] },
  kubeAPIQPS: { kind: { type: 'float' }, flags: ['kube-api-qps'] },
  kubeAPIBurst: { kind: int32, zeroIsUnset: true, flags: ['kube-api-burst'] },
  serializeImagePulls: { kind: bool, flags: ['serialize-image-pulls'] },
  maxParallelImagePulls: { kind: { type: 'nullableInt' }, flags: ['max-parallel-image-pulls'] },
  evictionHard: { kind: { type: 'stringMap', flagSyntax: 'langle' }, flags: ['eviction-hard'] },
  evictionSoft: { kind: { type: 'stringMap', flagSyntax: 'langle' }, flags: ['eviction-soft'] },
  evictionSoftGracePeriod: { kind: stringMap, flags: ['eviction-soft-grace-period'] },
  evictionPressureTransitionPeriod: { kind: duration, zeroIsUnset: true, flags: ['eviction-pressure-transition-period'] },
  evictionMaxPodGracePeriod: { kind: int32, flags: ['eviction-max-pod-grace-period'] },
  evictionMinimumReclaim: { kind: stringMap, flags: ['eviction-minimum-reclaim'] },
  mergeDefaultEvictionSettings: { kind: bool },
  podsPerCore: { kind: int32, flags: ['pods-per-core'] },
  enableControllerAttachDetach: { kind: bool, flags: ['enable-controller-attach-detach'] },
  featureGates: { kind: { type: 'boolMap' }, flags: ['feature-gates'] },
  failSwapOn: { kind: bool, flags: ['fail-swap-on'] },
  containerLogMaxSize: { kind: str, zeroIsUnset: true, flags: ['container-log-max-size'] },
  containerLogMaxFiles: { kind: int32, flags: ['container-log-max-files'] },
  containerLogMaxWorkers: { kind: int32 },
  containerLogMonitorInterval: { kind: duration },
  systemReserved: { kind: stringMap, flags: ['system-reserved'] },
  kubeReserved: { kind: stringMap, flags: ['kube-reserved'] },
  systemReservedCgroup: { kind: str, flags: ['system-reserved-cgroup'] },
  kubeReservedCgroup: { kind: str, flags: ['kube-reserved-cgroup'] },
  enforceNodeAllocatable: { kind: { type: 'stringList' }, flags: ['enforce-node-allocatable'] },
  allowedUnsafeSysctls: { kind: { type: 'stringList' }, flags: ['allowed-unsafe-sysctls'] },
  providerID: { kind: str, flags: ['provider-id'] },
  shutdownGracePeriod: { kind: duration },
  shutdownGracePeriodCriticalPods: { kind: duration },
  crashLoopBackOff: { kind: { type: 'crashLoopBackOff' } },
  seccompDefault: { kind: bool, flags: ['seccomp-default'] },
  registerNode: { kind: bool, flags: ['register-node'] },
  registerWithTaints: { kind: { type: 'taints' } },
  localStorageCapacityIsolation: { kind: bool },
  containerRuntimeEndpoint: {
    kind: str,
    zeroIsUnset: true,
    flags: ['container-runtime-endpoint', 'runtime-endpoint'],
  },
  imageServiceEndpoint: { kind: str, flags: ['image-service-endpoint'] },
};

/**
 * Upstream v1beta1 fields this kubelet accepts but does not act on (TLS, authn/z, logging, ...):
 * decoded without complaint so real kubelet config files load; they do not reach the config.
 */
export const UNMODELLED_UPSTREAM_FIELDS: ReadonlySet<string> = new Set([
  'staticPodURL', 'staticPodURLHeader', 'tlsCertFile', 'tlsPrivateKeyFile', 'tlsCipherSuites', 'tlsMinVersion',
  'rotateCertificates', 'serverTLSBootstrap', 'authentication', 'authorization', 'imagePullCredentialsVerificationPolicy',
  'preloadedImagesVerificationAllowlist', 'enableDebuggingHandlers', 'enableContentionProfiling', 'kubeletCgroups',
  'systemCgroups', 'singleProcessOOMKill', 'cpuManagerPolicyOptions', 'cpuManagerReconcilePeriod',
  'topologyManagerPolicyOptions', 'qosReserved', 'runOnce', 'contentType', 'protectKernelDefaults',
  'makeIPTablesUtilChains', 'iptablesMasqueradeBit', 'iptablesDropBit', 'memorySwap',
  'configMapAndSecretChangeDetectionStrategy', 'reservedSystemCPUs', 'showHiddenMetricsForVersion', 'volumePluginDir',
  'kernelMemcgNotification', 'logging', 'enableSystemLogHandler', 'enableSystemLogQuery',
  'shutdownGracePeriodByPodPriority', 'reservedMemory', 'enableProfilingHandler', 'enableDebugFlagsHandler',
  'memoryThrottlingFactor', 'memoryReservationPolicy', 'tracing', 'failCgroupV1', 'userNamespaces',
  'imagePullCredentialsVerificationPolicy', 'draManagerReconcilePeriod',
]);

/** Flags kubelet has that are not KubeletConfiguration fields. */
export const FLAG_ONLY = {
  'node-name': 'nodeName',
  'hostname-override': 'nodeName',
  'root-dir': 'rootDir',
  kubeconfig: 'kubeconfig',
  config: 'configFile',
  'node-ip': 'nodeIP',
} as const;

/**
 * Upstream kubelet flags this kubelet accepts without acting on them (TLS, auth, cloud, logging, ...):
 * reported as warnings so real kubelet command lines still start.
 */
export const IGNORED_UPSTREAM_FLAGS: ReadonlySet<string> = new Set([
  'v', 'vmodule', 'logtostderr', 'log-dir', 'log-file', 'alsologtostderr', 'cert-dir', 'bootstrap-kubeconfig',
  'pod-infra-container-image', 'cloud-provider', 'cloud-config', 'container-runtime', 'tls-cert-file',
  'tls-private-key-file', 'client-ca-file', 'rotate-certificates', 'rotate-server-certificates', 'anonymous-auth',
  'authorization-mode', 'authentication-token-webhook', 'kube-api-content-type', 'image-credential-provider-config',
  'image-credential-provider-bin-dir', 'volume-plugin-dir', 'lock-file', 'exit-on-lock-contention',
  'runonce', 'experimental-allocatable-ignore-eviction',
]);

/** flag name → config field, built from CONFIG_FIELDS. */
export const FLAG_TO_FIELD: ReadonlyMap<string, ModelledField> = new Map(
  (Object.entries(CONFIG_FIELDS) as Array<[ModelledField, FieldSpec]>).flatMap(([field, spec]) =>
    (spec.flags ?? []).map((flag) => [flag, field] as const),
  ),
);

export type { ModelledField };
