import type { ConfigProblem, KubeletConfiguration } from './types.js';

/** What the runtime says about itself (CRI RuntimeConfig; absent when the runtime does not implement it). */
export interface RuntimeReportedConfig {
  /** `linux.cgroupDriver` of RuntimeConfigResponse: 'SYSTEMD' or 'CGROUPFS'. */
  cgroupDriver?: string;
}

/**
 * Where the configuration disagrees with what the runtime reports. Current kubelets take the
 * runtime's cgroup driver when it reports one (KubeletCgroupDriverFromCRI) and run on; the harness
 * reports the disagreement so kubelet_node_config_error can say so. Returns the driver to use.
 */
export function runtimeConfigConflicts(
  config: Pick<KubeletConfiguration, 'cgroupDriver'>,
  runtime: RuntimeReportedConfig,
): { effectiveCgroupDriver: 'cgroupfs' | 'systemd'; conflicts: ConfigProblem[] } {
  const reported = runtime.cgroupDriver?.toUpperCase();
  const fromRuntime = reported === 'SYSTEMD' ? 'systemd' : reported === 'CGROUPFS' ? 'cgroupfs' : undefined;
  if (!fromRuntime) return { effectiveCgroupDriver: config.cgroupDriver, conflicts: [] };
  const conflicts =
    fromRuntime === config.cgroupDriver
      ? []
      : [{ field: 'cgroupDriver', message: `${JSON.stringify(config.cgroupDriver)} differs from the runtime's cgroup driver ${JSON.stringify(fromRuntime)}; using the runtime's` }];
  return { effectiveCgroupDriver: fromRuntime, conflicts };
}
