import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * Where the kubelet keeps volumes on the node (pkg/kubelet/kubelet_getters.go, pkg/volume/csi):
 *   <root>/pods/<uid>/volumes/<escaped plugin>/<volume>            pod volume directories
 *   <root>/pods/<uid>/volumes/kubernetes.io~csi/<volume>/mount     CSI NodePublishVolume target
 *   <root>/plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/globalmount   CSI staging path
 * `<volume>` is the pod's volume name, or the PersistentVolume's name for PVC-backed volumes.
 */

export const PLUGIN = {
  emptyDir: 'kubernetes.io/empty-dir',
  hostPath: 'kubernetes.io/host-path',
  configMap: 'kubernetes.io/configmap',
  secret: 'kubernetes.io/secret',
  downwardAPI: 'kubernetes.io/downward-api',
  projected: 'kubernetes.io/projected',
  csi: 'kubernetes.io/csi',
} as const;

export type PluginName = (typeof PLUGIN)[keyof typeof PLUGIN];

/** `kubernetes.io/empty-dir` → `kubernetes.io~empty-dir`, as kubelet names plugin directories. */
export function escapePluginName(plugin: string): string {
  return plugin.replace(/\//g, '~');
}

export function podDir(root: string, podUid: string): string {
  return join(root, 'pods', podUid);
}

export function podVolumesDir(root: string, podUid: string): string {
  return join(podDir(root, podUid), 'volumes');
}

export function podVolumeDir(root: string, podUid: string, plugin: string, volumeName: string): string {
  return join(podVolumesDir(root, podUid), escapePluginName(plugin), volumeName);
}

/** The NodePublishVolume target_path. */
export function csiTargetPath(root: string, podUid: string, specVolumeName: string): string {
  return join(podVolumeDir(root, podUid, PLUGIN.csi, specVolumeName), 'mount');
}

/** The NodeStageVolume staging_target_path: one per (driver, volume handle) on the node. */
export function csiStagingPath(root: string, driver: string, volumeHandle: string): string {
  const digest = createHash('sha256').update(volumeHandle).digest('hex');
  return join(root, 'plugins', 'kubernetes.io', 'csi', driver, digest, 'globalmount');
}

/** Volume handle kubelet derives for an inline (ephemeral) CSI volume: `csi-` + sha256(podUID + volume name). */
export function inlineCsiVolumeHandle(podUid: string, volumeName: string): string {
  return `csi-${createHash('sha256').update(`${podUid}${volumeName}`).digest('hex')}`;
}
