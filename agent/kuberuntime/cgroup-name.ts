import type { QOSClass } from '../resources/qos.js';

/**
 * Pod cgroup names as the kubelet's cgroup manager spells them (upstream cm/cgroup_manager_linux.go,
 * pod_container_manager_linux.go): `kubepods[/burstable|/besteffort]/pod<uid>`, Guaranteed pods directly
 * under kubepods; in cgroupfs form a path, in systemd form nested .slice units with '-' escaped to '_'.
 */

export type CgroupDriver = 'cgroupfs' | 'systemd';

/** The pod's cgroup as a list of name components (upstream CgroupName). */
export function podCgroupNameParts(qos: QOSClass, podUid: string, cgroupsPerQOS = true): string[] {
  const parts = ['kubepods'];
  if (cgroupsPerQOS && qos === 'Burstable') parts.push('burstable');
  if (cgroupsPerQOS && qos === 'BestEffort') parts.push('besteffort');
  parts.push(`pod${podUid}`);
  return parts;
}

/** cgroupfs: '/kubepods/burstable/pod<uid>'. */
export function toCgroupfs(parts: readonly string[]): string {
  return `/${parts.join('/')}`;
}

/**
 * systemd: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_with_underscores>.slice'
 * (upstream ToSystemd + ExpandSlice; '-' inside a component is escaped to '_').
 */
export function toSystemd(parts: readonly string[]): string {
  if (parts.length === 0) return '/';
  const escaped = parts.map((p) => p.replaceAll('-', '_'));
  let path = '';
  for (let i = 1; i <= escaped.length; i++) {
    path += `/${escaped.slice(0, i).join('-')}.slice`;
  }
  return path;
}

/** The CRI cgroup_parent for a pod sandbox. */
export function podCgroupParent(qos: QOSClass, podUid: string, driver: CgroupDriver, cgroupsPerQOS = true): string {
  const parts = podCgroupNameParts(qos, podUid, cgroupsPerQOS);
  return driver === 'systemd' ? toSystemd(parts) : toCgroupfs(parts);
}
