export { VolumeManager, PodVolumesError, type MountedVolume, type VolumeObjectSource, type VolumeManagerOptions } from './volume-manager.js';
export { VolumeError } from './errors.js';
export { CsiDrivers, type CsiDriverRegistration } from './csi-drivers.js';
export { classifyPodVolumes, type ClassifiedVolume, type VolumeKind, type VolumeSpecProblem } from './pod-volumes.js';
export { configMapPayload, secretPayload, validatePayloadPath, ProjectionError, type Payload } from './projection.js';
export { writeAtomically, readProjectedVolume } from './atomic-writer.js';
export { checkHostPath, type HostPathType } from './host-path.js';
export { csiAccessMode, csiUniqueName, type CsiVolumeSpec } from './csi-volume.js';
export * from './paths.js';
