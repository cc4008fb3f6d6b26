import type { V1ContainerImage, V1Node, V1NodeStatus } from '@kubernetes/client-node';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { EventReason, nodeRef, type EventRecorder } from '../api/events.js';
import { httpCode, strategicMergePatch, type KubeClients } from '../api/kube-client.js';
import { statusToJson } from '../status/merge.js';
import { LeaseRenewer } from './node-lease.js';
import { buildNodeStatus, initialNode, nodeStatusChanged, type NodeStatusInput } from './node-status.js';
import type { MachineInfo } from './machine.js';
import { nodeStatusImages, type RuntimeImage } from './images.js';

/** KubeletConfiguration nodeStatusMaxImages default. */
export const DEFAULT_NODE_STATUS_MAX_IMAGES = 50;

export interface NodeStatusManagerOptions {
  readonly clients: KubeClients;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly nodeName: string;
  readonly machine: MachineInfo;
  /** nodeStatusUpdateFrequency (ms): how often status is computed. */
  readonly updateFrequencyMs: number;
  /** nodeStatusReportFrequency (ms): how often an unchanged status is still written. */
  readonly reportFrequencyMs: number;
  readonly leaseDurationSeconds: number;
  readonly registerNode: boolean;
  readonly taints?: ReadonlyArray<{ key: string; value?: string; effect: string }>;
  /** Everything but machine, previous and now, read at each update. */
  readonly inputs: () => Omit<NodeStatusInput, 'machine' | 'previous' | 'now' | 'images'>;
  /** The runtime's images (CRI ListImages), read at each update for node.status.images; absent = not reported. */
  readonly imageList?: () => Promise<readonly RuntimeImage[]>;
  /** nodeStatusMaxImages (default 50; -1 = all). */
  readonly maxImages?: number;
  readonly log?: (msg: string) => void;
}

/**
 * Registers the node, keeps its status current (computed every nodeStatusUpdateFrequency, written when
 * it changed or nodeStatusReportFrequency passed) and renews its Lease every leaseDuration/4.
 */
export class NodeStatusManager {
  private statusTimer: TimerHandle | undefined;
  private leaseTimer: TimerHandle | undefined;
  private lastWritten: V1NodeStatus | undefined;
  private lastWrittenAt = -Infinity;
  nodeUid: string | undefined;
  private readonly lease: LeaseRenewer;
  private registered = false;
  private lastReady: string | undefined;
  private updating = false;

  constructor(private readonly o: NodeStatusManagerOptions) {
    this.lease = new LeaseRenewer(o.clients, o.nodeName, o.leaseDurationSeconds);
  }

  private log(msg: string): void {
    this.o.log?.(msg);
  }

  async start(): Promise<void> {
    if (this.o.registerNode) await this.register().catch((e: unknown) => this.log(`node registration failed, will retry: ${(e as Error).message}`));
    await this.updateStatus();
    await this.renewLease();
    this.statusTimer = this.o.clock.setInterval(() => void this.updateStatus(), this.o.updateFrequencyMs);
    this.leaseTimer = this.o.clock.setInterval(() => void this.renewLease(), (this.o.leaseDurationSeconds * 1000) / 4);
  }

  stop(): void {
    this.statusTimer?.cancel();
    this.leaseTimer?.cancel();
  }

  /** Last status written to the API. */
  current(): V1NodeStatus | undefined {
    return this.lastWritten;
  }

  async register(): Promise<void> {
    const core = this.o.clients.core;
    const node = initialNode(this.o.nodeName, this.o.machine, this.o.taints ? { taints: this.o.taints } : {});
    let created: V1Node;
    try {
      created = await core.createNode({ body: node });
      this.o.recorder.event(nodeRef(this.o.nodeName), 'Normal', EventReason.RegisteredNode, `Node ${this.o.nodeName} event: Registered Node ${this.o.nodeName} in Controller`);
    } catch (e) {
      if (httpCode(e) !== 409) throw e;
      created = await core.readNode({ name: this.o.nodeName });
      this.lastWritten = created.status;
    }
    this.nodeUid = created.metadata?.uid;
    this.registered = true;
    this.o.recorder.event(nodeRef(this.o.nodeName), 'Normal', EventReason.Starting, 'Starting kubelet.');
  }

  async updateStatus(force = false): Promise<void> {
    if (this.updating) return;
    this.updating = true;
    try {
      if (this.o.registerNode && !this.registered) await this.register();
      const images = await this.images();
      const now = this.o.clock.now();
      const status = buildNodeStatus({ ...this.o.inputs(), ...(images ? { images } : {}), machine: this.o.machine, previous: this.lastWritten, now });
      const due = this.o.clock.monotonic() - this.lastWrittenAt >= this.o.reportFrequencyMs;
      if (!force && !due && !nodeStatusChanged(this.lastWritten, status)) return;
      const patched = await this.o.clients.core.patchNodeStatus(
        { name: this.o.nodeName, body: { status: statusToJson(status as never) } },
        strategicMergePatch,
      );
      this.nodeUid = patched.metadata?.uid ?? this.nodeUid;
      this.lastWritten = status;
      this.lastWrittenAt = this.o.clock.monotonic();
      const ready = status.conditions?.find((c) => c.type === 'Ready')?.status;
      if (ready !== this.lastReady) {
        if (ready === 'True') this.o.recorder.event(nodeRef(this.o.nodeName), 'Normal', EventReason.NodeReady, `Node ${this.o.nodeName} status is now: NodeReady`);
        else if (this.lastReady !== undefined) this.o.recorder.event(nodeRef(this.o.nodeName), 'Normal', EventReason.NodeNotReady, `Node ${this.o.nodeName} status is now: NodeNotReady`);
        this.lastReady = ready;
      }
    } catch (e) {
      this.log(`node status update failed: ${(e as Error).message}`);
      if (httpCode(e) === 404) this.registered = false;
    } finally {
      this.updating = false;
    }
  }

  /** A failed listing reports no images (as upstream's setter does) and is logged; the rest of the status still goes out. */
  private async images(): Promise<V1ContainerImage[] | undefined> {
    if (!this.o.imageList) return undefined;
    try {
      return nodeStatusImages(await this.o.imageList(), this.o.maxImages ?? DEFAULT_NODE_STATUS_MAX_IMAGES);
    } catch (e) {
      this.log(`node status: error getting image list: ${(e as Error).message}`);
      return [];
    }
  }

  async renewLease(): Promise<void> {
    try {
      await this.lease.renew(new Date(this.o.clock.now()), this.nodeUid);
    } catch (e) {
      this.log(`lease renewal failed: ${(e as Error).message}`);
    }
  }
}
