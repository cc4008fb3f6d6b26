/**
 * A volume that could not be set up or torn down. The message has kubelet's FailedMount shape
 * (`MountVolume.SetUp failed for volume "data" : ...`); `field` points into the pod spec
 * (`spec.volumes[2].configMap.name`) when the pod's own spec is at fault.
 */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
  readonly volumeName: string;
  readonly field: string | undefined;
  readonly reason: string;
  /** True when retrying cannot help without a spec change (unknown volume type, bad path, ...). */
  readonly permanent: boolean;
  constructor(init: { operation: 'SetUp' | 'TearDown'; volumeName: string; reason: string; field?: string; permanent?: boolean }) {
    const prefix = init.operation === 'SetUp' ? 'MountVolume.SetUp' : 'UnmountVolume.TearDown';
    super(`${prefix} failed for volume ${JSON.stringify(init.volumeName)} : ${init.field ? `${init.field}: ` : ''}${init.reason}`);
    this.volumeName = init.volumeName;
    this.field = init.field;
    this.reason = init.reason;
    this.permanent = init.permanent ?? false;
  }
}
