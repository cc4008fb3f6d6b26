import type { V1Pod } from '@kubernetes/client-node';
import type { MountedVolume } from '../kuberuntime/container-config.js';

/**
 * What the pod workers need from a volume manager: every volume of a pod set up on the node before its
 * containers are created, and torn down after they are gone. Errors name the volume; the worker turns
 * them into FailedMount events and retries.
 */
export interface PodVolumeManager {
  mountPodVolumes(pod: V1Pod): Promise<ReadonlyMap<string, MountedVolume>>;
  unmountPodVolumes(pod: V1Pod): Promise<void>;
}

/** For agents without a volume manager: pods without volumes run, any volume fails to mount. */
export class NoVolumeManager implements PodVolumeManager {
  async mountPodVolumes(pod: V1Pod): Promise<ReadonlyMap<string, MountedVolume>> {
    const first = pod.spec?.volumes?.[0];
    if (first) throw new Error(`volume "${first.name}": this agent has no volume manager`);
    return new Map();
  }
  async unmountPodVolumes(): Promise<void> {}
}
