import type { PodStatusWriter } from '../status/status-manager.js';
import { httpCode, mergePatch, type KubeClients } from './kube-client.js';

/**
 * Writes pod statuses as the kubelet does: a patch of the status subresource carrying the pod UID as a
 * precondition, and deletion of finished pods with grace period 0 and a UID precondition.
 */
export class ApiPodStatusWriter implements PodStatusWriter {
  /**
   * @param apiUid maps the kubelet's pod UID to the UID of the API object that carries its status
   *   (a static pod's mirror pod); throws while that object does not exist yet.
   */
  constructor(
    private readonly clients: KubeClients,
    private readonly apiUid: (namespace: string, name: string, uid: string) => string = (_n, _m, uid) => uid,
  ) {}

  async patchStatus(namespace: string, name: string, kubeletUid: string, status: Record<string, unknown>): Promise<boolean> {
    const uid = this.apiUid(namespace, name, kubeletUid);
    try {
      await this.clients.core.patchNamespacedPodStatus(
        { name, namespace, body: { metadata: { uid }, status } },
        mergePatch,
      );
      return true;
    } catch (e) {
      const code = httpCode(e);
      if (code === 404 || code === 409) return false;
      throw e;
    }
  }

  async deletePod(namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.clients.core.deleteNamespacedPod({
        name,
        namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      });
    } catch (e) {
      const code = httpCode(e);
      if (code === 404 || code === 409) return;
      throw e;
    }
  }
}
