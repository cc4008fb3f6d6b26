import { mkdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { V1PersistentVolume, V1Pod, V1Volume } from '@kubernetes/client-node';
import type { VolumeCapability } from '../../proto/generated/csi/csi/v1/VolumeCapability.js';
import type { CsiDrivers } from './csi-drivers.js';
import { csiStagingPath, csiTargetPath, inlineCsiVolumeHandle } from './paths.js';

/** A secret reference to resolve into CSI `secrets`. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** A CSI volume of one pod, with everything teardown needs even after the API objects are gone. */
export interface CsiVolumeSpec {
  driver: string;
  volumeHandle: string;
  /** Inline (ephemeral) volumes are never staged. */
  inline: boolean;
  /** Directory name under kubernetes.io~csi: the pod volume name, or the PV name. */
  specName: string;
  readOnly: boolean;
  fsType: string;
  mountFlags: string[];
  /** PV access mode (first of spec.accessModes), ReadWriteOnce for inline volumes. */
  accessMode: string;
  volumeAttributes: Record<string, string>;
  nodeStageSecret?: SecretRef;
  nodePublishSecret?: SecretRef;
}

export function inlineCsiSpec(pod: V1Pod, volume: V1Volume): CsiVolumeSpec {
  const src = volume.csi!;
  const uid = pod.metadata?.uid ?? '';
  return {
    driver: src.driver,
    volumeHandle: inlineCsiVolumeHandle(uid, volume.name),
    inline: true,
    specName: volume.name,
    readOnly: src.readOnly ?? false,
    fsType: src.fsType ?? '',
    mountFlags: [],
    accessMode: 'ReadWriteOnce',
    volumeAttributes: { ...(src.volumeAttributes ?? {}) },
    ...(src.nodePublishSecretRef?.name ? { nodePublishSecret: { namespace: pod.metadata?.namespace ?? 'default', name: src.nodePublishSecretRef.name } } : {}),
  };
}

/** The CSI spec of a PVC-backed volume, from its bound PV (`pvcReadOnly` from the pod's claim reference). */
export function persistentCsiSpec(pv: V1PersistentVolume, pvcReadOnly: boolean): CsiVolumeSpec {
  const src = pv.spec!.csi!;
  const ref = (r: { name?: string; namespace?: string } | undefined): SecretRef | undefined =>
    r?.name ? { namespace: r.namespace ?? 'default', name: r.name } : undefined;
  const stage = ref(src.nodeStageSecretRef);
  const publish = ref(src.nodePublishSecretRef);
  return {
    driver: src.driver,
    volumeHandle: src.volumeHandle,
    inline: false,
    specName: pv.metadata?.name ?? src.volumeHandle,
    readOnly: pvcReadOnly || (src.readOnly ?? false),
    fsType: src.fsType ?? '',
    mountFlags: [...(pv.spec?.mountOptions ?? [])],
    accessMode: pv.spec?.accessModes?.[0] ?? 'ReadWriteOnce',
    volumeAttributes: { ...(src.volumeAttributes ?? {}) },
    ...(stage ? { nodeStageSecret: stage } : {}),
    ...(publish ? { nodePublishSecret: publish } : {}),
  };
}

/** PV access mode → CSI access mode, as kubelet's asCSIAccessModeV1 maps it. */
export function csiAccessMode(accessMode: string, supportsSingleNodeMultiWriter: boolean): string {
  switch (accessMode) {
    case 'ReadWriteOnce':
      return supportsSingleNodeMultiWriter ? 'SINGLE_NODE_MULTI_WRITER' : 'SINGLE_NODE_WRITER';
    case 'ReadOnlyMany':
      return 'MULTI_NODE_READER_ONLY';
    case 'ReadWriteMany':
      return 'MULTI_NODE_MULTI_WRITER';
    case 'ReadWriteOncePod':
      return supportsSingleNodeMultiWriter ? 'SINGLE_NODE_SINGLE_WRITER' : 'SINGLE_NODE_WRITER';
    default:
      return 'UNKNOWN';
  }
}

/** Unique volume name as kubelet's volume manager keys it: `kubernetes.io/csi/<driver>^<handle>`. */
export function csiUniqueName(spec: CsiVolumeSpec): string {
  return `kubernetes.io/csi/${spec.driver}^${spec.volumeHandle}`;
}

export interface CsiSetUpContext {
  rootDir: string;
  nodeName: string;
  pod: V1Pod;
  drivers: CsiDrivers;
  /** Decoded secret data, or null when the secret does not exist. */
  getSecret(ref: SecretRef): Promise<Record<string, string> | null>;
  /** Is this volume already staged on the node (by another pod or an earlier attempt)? */
  isStaged(uniqueName: string): boolean;
  markStaged(uniqueName: string, stagingPath: string): void;
}

/**
 * Sets up one CSI volume for a pod in kubelet's order: NodeStageVolume into the global mount (for
 * PV-backed volumes when the driver advertises STAGE_UNSTAGE_VOLUME), then NodePublishVolume into the
 * pod's directory. kubelet creates the staging directory and the target's parent, and leaves the
 * target itself to the driver. Returns the published target path.
 */
export async function setUpCsiVolume(spec: CsiVolumeSpec, ctx: CsiSetUpContext): Promise<{ targetPath: string; stagingPath?: string }> {
  const driver = ctx.drivers.get(spec.driver);
  const caps = await driver.nodeCapabilities();
  const mode = csiAccessMode(spec.accessMode, caps.has('SINGLE_NODE_MULTI_WRITER'));
  if (mode === 'UNKNOWN') throw new Error(`unsupported access mode ${JSON.stringify(spec.accessMode)}`);
  const capability: VolumeCapability = { mount: { fsType: spec.fsType, mountFlags: spec.mountFlags }, accessMode: { mode: mode as 'SINGLE_NODE_WRITER' } };
  const uid = ctx.pod.metadata?.uid ?? '';
  const unique = csiUniqueName(spec);

  let stagingPath: string | undefined;
  if (!spec.inline && caps.has('STAGE_UNSTAGE_VOLUME')) {
    stagingPath = csiStagingPath(ctx.rootDir, spec.driver, spec.volumeHandle);
    if (!ctx.isStaged(unique)) {
      mkdirSync(stagingPath, { recursive: true, mode: 0o750 });
      writeVolData(dirname(stagingPath), { driverName: spec.driver, volumeHandle: spec.volumeHandle });
      await driver.client.node.nodeStageVolume({
        volumeId: spec.volumeHandle,
        stagingTargetPath: stagingPath,
        volumeCapability: capability,
        publishContext: {},
        secrets: await secretsOf(spec.nodeStageSecret, ctx),
        volumeContext: spec.volumeAttributes,
      });
      ctx.markStaged(unique, stagingPath);
    }
  }

  const targetPath = csiTargetPath(ctx.rootDir, uid, spec.specName);
  mkdirSync(dirname(targetPath), { recursive: true, mode: 0o750 });
  writeVolData(dirname(targetPath), {
    specVolID: spec.specName,
    volHandle: spec.volumeHandle,
    driverName: spec.driver,
    nodeName: ctx.nodeName,
    volumeLifecycleMode: spec.inline ? 'Ephemeral' : 'Persistent',
  });
  const volumeContext = { ...spec.volumeAttributes };
  if (driver.registration.podInfoOnMount ?? true) {
    volumeContext['csi.storage.k8s.io/pod.name'] = ctx.pod.metadata?.name ?? '';
    volumeContext['csi.storage.k8s.io/pod.namespace'] = ctx.pod.metadata?.namespace ?? '';
    volumeContext['csi.storage.k8s.io/pod.uid'] = uid;
    volumeContext['csi.storage.k8s.io/serviceAccount.name'] = ctx.pod.spec?.serviceAccountName ?? 'default';
    volumeContext['csi.storage.k8s.io/ephemeral'] = String(spec.inline);
  }
  await driver.client.node.nodePublishVolume({
    volumeId: spec.volumeHandle,
    publishContext: {},
    ...(stagingPath ? { stagingTargetPath: stagingPath } : {}),
    targetPath,
    volumeCapability: capability,
    readonly: spec.readOnly,
    secrets: await secretsOf(spec.nodePublishSecret, ctx),
    volumeContext,
  });
  return stagingPath ? { targetPath, stagingPath } : { targetPath };
}

/** NodeUnpublishVolume, then kubelet's cleanup of the pod's CSI volume directory. */
export async function unpublishCsiVolume(spec: CsiVolumeSpec, targetPath: string, drivers: CsiDrivers): Promise<void> {
  await drivers.get(spec.driver).client.node.nodeUnpublishVolume({ volumeId: spec.volumeHandle, targetPath });
  rmSync(targetPath, { recursive: true, force: true });
  rmSync(join(dirname(targetPath), 'vol_data.json'), { force: true });
  removeEmptyDir(dirname(targetPath));
}

/** NodeUnstageVolume once no pod on the node uses the volume, then removal of the global mount directory. */
export async function unstageCsiVolume(spec: CsiVolumeSpec, stagingPath: string, drivers: CsiDrivers): Promise<void> {
  await drivers.get(spec.driver).client.node.nodeUnstageVolume({ volumeId: spec.volumeHandle, stagingTargetPath: stagingPath });
  removeEmptyDir(stagingPath);
  rmSync(join(dirname(stagingPath), 'vol_data.json'), { force: true });
  removeEmptyDir(dirname(stagingPath));
}

async function secretsOf(ref: SecretRef | undefined, ctx: CsiSetUpContext): Promise<Record<string, string>> {
  if (!ref) return {};
  const data = await ctx.getSecret(ref);
  if (!data) throw new Error(`fetching secret ${ref.namespace}/${ref.name} failed: secret not found`);
  return data;
}

function writeVolData(dir: string, data: Record<string, string>): void {
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  writeFileSync(join(dir, 'vol_data.json'), JSON.stringify(data), { mode: 0o640 });
}

function removeEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty or already gone: left for the driver or housekeeping
  }
}
