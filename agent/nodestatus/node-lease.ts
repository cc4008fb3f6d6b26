import type { V1Lease } from '@kubernetes/client-node';
import { httpCode, type KubeClients } from '../api/kube-client.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/**
 * A Date that serializes as metav1.MicroTime (six fractional digits), which Lease.spec.renewTime must
 * be: clients such as kubectl reject the millisecond form client-node would otherwise send.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, 23)}000Z`;
  }
  override toJSON(): string {
    return this.toISOString();
  }
}

/** The node's Lease (upstream pkg/kubelet/nodelease via component-helpers/apimachinery/lease). */
export function desiredLease(nodeName: string, durationSeconds: number, renewTime: Date, nodeUid: string | undefined): V1Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: nodeName,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}),
    },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: durationSeconds, renewTime: new MicroTime(renewTime.getTime()) },
  };
}

/** Creates the lease or renews it (replace with the last seen resourceVersion; re-reads on conflict). */
export class LeaseRenewer {
  private current: V1Lease | undefined;

  constructor(
    private readonly clients: KubeClients,
    private readonly nodeName: string,
    private readonly durationSeconds: number,
  ) {}

  async renew(now: Date, nodeUid: string | undefined): Promise<V1Lease> {
    const api = this.clients.coordination;
    if (!this.current) {
      try {
        this.current = await api.readNamespacedLease({ name: this.nodeName, namespace: NODE_LEASE_NAMESPACE });
      } catch (e) {
        if (httpCode(e) !== 404) throw e;
        this.current = await api.createNamespacedLease({
          namespace: NODE_LEASE_NAMESPACE,
          body: desiredLease(this.nodeName, this.durationSeconds, now, nodeUid),
        });
        return this.current;
      }
    }
    const body: V1Lease = {
      ...this.current,
      spec: { ...this.current.spec, holderIdentity: this.nodeName, leaseDurationSeconds: this.durationSeconds, renewTime: new MicroTime(now.getTime()) },
    };
    if (nodeUid && !(this.current.metadata?.ownerReferences ?? []).length) {
      body.metadata = { ...body.metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: nodeUid }] };
    }
    try {
      this.current = await api.replaceNamespacedLease({ name: this.nodeName, namespace: NODE_LEASE_NAMESPACE, body });
    } catch (e) {
      this.current = undefined; // re-read next time (conflict or lease deleted)
      throw e;
    }
    return this.current;
  }
}
