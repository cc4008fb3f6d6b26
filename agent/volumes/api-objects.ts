import type { KubeClients } from '../api/kube-client.js';
import { httpCode } from '../api/kube-client.js';
import type { VolumeObjectSource } from './volume-manager.js';

/**
 * The volume manager's object source over the API server: ConfigMaps, Secrets, PVCs and PVs read
 * directly (404 = null). Without an API server (static pods only) every lookup is null, so such
 * volumes fail to mount naming the missing object, as kubelet's do.
 */
export function apiVolumeObjectSource(clients: KubeClients | null): VolumeObjectSource {
  const orNull = async <T>(read: () => Promise<T>): Promise<T | null> => {
    if (!clients) return null;
    try {
      return await read();
    } catch (e) {
      if (httpCode(e) === 404) return null;
      throw e;
    }
  };
  return {
    getConfigMap: (namespace, name) => orNull(() => clients!.core.readNamespacedConfigMap({ name, namespace })),
    getSecret: (namespace, name) => orNull(() => clients!.core.readNamespacedSecret({ name, namespace })),
    getPersistentVolumeClaim: (namespace, name) => orNull(() => clients!.core.readNamespacedPersistentVolumeClaim({ name, namespace })),
    getPersistentVolume: (name) => orNull(() => clients!.core.readPersistentVolume({ name })),
  };
}
