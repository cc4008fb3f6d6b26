/**
 * Whether this kubelet manages pod cgroups itself, and where: a pure decision from the configuration
 * and the environment, so the Kubelet only acts on it and every "no" carries the reason it logs.
 */

export const DEFAULT_CGROUPFS_ROOT = '/sys/fs/cgroup';
/** The fake runtime's CRI runtime name: it starts no processes and makes no cgroups. */
export const FAKE_RUNTIME_NAME = 'fake-cri';

export interface PodCgroupsInput {
  readonly cgroupsPerQOS: boolean;
  /** After adopting the runtime's driver. */
  readonly cgroupDriver: 'cgroupfs' | 'systemd';
  /** KubeletConfiguration.cgroupRoot: the parent cgroup of kubepods ('' or '/' = the root cgroup). */
  readonly cgroupRoot: string;
  /** An explicit cgroup filesystem root (tests and the fakes: a directory shaped like /sys/fs/cgroup). */
  readonly cgroupfsRoot?: string;
  /** CRI Version runtimeName. */
  readonly runtimeName: string;
  readonly runningAsRoot: boolean;
}

export type PodCgroupsDecision = { readonly manage: true; readonly root: string } | { readonly manage: false; readonly reason: string };

export function podCgroupsDecision(input: PodCgroupsInput): PodCgroupsDecision {
  if (!input.cgroupsPerQOS) return { manage: false, reason: 'cgroupsPerQOS is false: pods get no QoS or pod-level cgroups' };
  if (input.cgroupDriver === 'systemd') {
    return {
      manage: false,
      reason: 'cgroupDriver is systemd: pod cgroups (kubepods.slice units) are left to the runtime; this kubelet only manages them with the cgroupfs driver',
    };
  }
  if (input.cgroupRoot !== '' && input.cgroupRoot !== '/') {
    return { manage: false, reason: `cgroupRoot ${JSON.stringify(input.cgroupRoot)} is not supported: pod cgroups are only managed under the root cgroup` };
  }
  if (input.cgroupfsRoot !== undefined) return { manage: true, root: input.cgroupfsRoot };
  if (input.runtimeName === FAKE_RUNTIME_NAME) {
    return { manage: false, reason: 'the fake runtime makes no cgroups and no cgroup filesystem root was given' };
  }
  if (!input.runningAsRoot) return { manage: false, reason: `not running as root: ${DEFAULT_CGROUPFS_ROOT} is not writable` };
  return { manage: true, root: DEFAULT_CGROUPFS_ROOT };
}
