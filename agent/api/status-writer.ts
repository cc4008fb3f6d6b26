import type { PodStatusWriter } from '../status/status-manager.js';
import { JsonApiWriter } from './json-requests.js';
import { httpCode, mergePatch, type KubeClients } from './kube-client.js';

/**
 * Writes pod statuses as the kubelet does: a patch of the status subresource carrying the pod UID as a
 * precondition, and deletion of finished pods with grace period 0 and a UID precondition.
 */
export class ApiPodStatusWriter implements PodStatusWriter {
  /** Status patches are the kubelet's most frequent write: plain JSON requests, not client-node's pipeline. */
  private readonly writer: JsonApiWriter | null;

  /**
   * @param apiUid maps the kubelet's pod UID to the UID of the API object that carries its status
   *   (a static pod's mirror pod); throws while that object does not exist yet.
   */
  constructor(
    private readonly clients: KubeClients,
    private readonly apiUid: (namespace: string, name: string, uid: string) => string = (_n, _m, uid) => uid,
  ) {
    this.writer = JsonApiWriter.handles(clients.config) ? new JsonApiWriter(clients.config) : null;
  }

  async patchStatus(namespace: string, name: string, kubeletUid: string, status: Record<string, unknown>): Promise<boolean> {
    const uid = this.apiUid(namespace, name, kubeletUid);
    try {
      const body = { metadata: { uid }, status };
      if (this.writer) {
        const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`;
        await this.writer.send('PATCH', path, body, 'application/merge-patch+json');
      } else {
        await this.clients.core.patchNamespacedPodStatus({ name, namespace, body }, mergePatch);
      }
      return true;
    } catch (e) {
      const code = httpCode(e);
      if (code === 404 || code === 409) return false;
      throw e;
    }
  }

  /** Closes the idle keep-alive connections of the status writes. */
  close(): void {
    this.writer?.close();
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
