import type { V1Pod } from '@kubernetes/client-node';
import { httpCode, type KubeClients } from '../api/kube-client.js';
import { CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, podName, podNamespace } from '../kuberuntime/pod-helpers.js';

/**
 * Mirror pods (upstream pkg/kubelet/pod/mirror_client.go): the API-side reflection of each static pod,
 * annotated kubernetes.io/config.mirror with the static pod's hash and owned by the Node, recreated when
 * missing or outdated and deleted when the static pod goes. Status written for a static pod lands on
 * its mirror pod.
 */
export class MirrorPodManager {
  /** Mirror pods seen in the API, by namespace/name. */
  private readonly mirrors = new Map<string, V1Pod>();

  constructor(
    private readonly clients: KubeClients,
    private readonly nodeName: string,
    private readonly nodeUid: () => string | undefined,
  ) {}

  observe(pod: V1Pod, deleted = false): void {
    const key = `${podNamespace(pod)}/${podName(pod)}`;
    if (deleted) this.mirrors.delete(key);
    else this.mirrors.set(key, pod);
  }

  mirrorOf(staticPod: V1Pod): V1Pod | undefined {
    return this.mirrors.get(`${podNamespace(staticPod)}/${podName(staticPod)}`);
  }

  /** The API UID the status of `staticPod` must be written with (its mirror's), if any. */
  mirrorUid(staticPod: V1Pod): string | undefined {
    return this.mirrorOf(staticPod)?.metadata?.uid;
  }

  async ensure(staticPod: V1Pod): Promise<void> {
    const hash = staticPod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? '';
    const existing = this.mirrorOf(staticPod);
    if (existing && existing.metadata?.deletionTimestamp == null && existing.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] === hash) return;
    if (existing) await this.deleteMirror(existing);
    const body: V1Pod = structuredClone(staticPod);
    const nodeUid = this.nodeUid();
    body.metadata = {
      name: podName(staticPod),
      namespace: podNamespace(staticPod),
      labels: staticPod.metadata?.labels ?? {},
      annotations: { ...(staticPod.metadata?.annotations ?? {}), [CONFIG_MIRROR_ANNOTATION]: hash },
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: nodeUid, controller: true }] } : {}),
    };
    delete body.status;
    try {
      const created = await this.clients.core.createNamespacedPod({ namespace: podNamespace(staticPod), body });
      this.observe(created);
    } catch (e) {
      if (httpCode(e) !== 409) throw e;
    }
  }

  async remove(staticPod: V1Pod): Promise<void> {
    const existing = this.mirrorOf(staticPod);
    if (existing) await this.deleteMirror(existing);
  }

  private async deleteMirror(pod: V1Pod): Promise<void> {
    try {
      await this.clients.core.deleteNamespacedPod({
        name: podName(pod),
        namespace: podNamespace(pod),
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata?.uid ?? '' } },
      });
    } catch (e) {
      if (httpCode(e) !== 404 && httpCode(e) !== 409) throw e;
    }
    this.observe(pod, true);
  }
}
