/**
 * The kubelet's orphan cleanup (upstream HandlePodCleanups, run at startup and every housekeeping period):
 * once every pod source has been listed, sandboxes and containers labelled for pods the kubelet does not
 * know — not in the API, not static, not owned by a pod worker — are stopped (containers first, with the
 * 1 s orphan grace period floored at 2 s, then their sandboxes) and removed. No events are recorded:
 * there is no pod object to attach them to, as upstream.
 *
 * Not racing admission: the known set is read after the runtime listing returned, so a pod whose sandbox
 * is in the listing was admitted (or given to a worker) before — admission happens before any sandbox.
 * Passes never overlap.
 */
import type { CriClient } from '../runtime/cri-client.js';
import { CriError } from '../runtime/rpc-error.js';
import { ORPHAN_STOP_TIMEOUT_SECONDS, findOrphanedPods, type OrphanedPod } from './orphans.js';

export interface OrphanCleanupOptions {
  readonly cri: Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'stopContainer' | 'removeContainer' | 'stopPodSandbox' | 'removePodSandbox'>;
  /** Resolves once every pod source (API informer, static pod directory) has delivered its first listing. */
  readonly sourcesReady: () => Promise<void>;
  /** The pod UIDs the kubelet knows (API pods, static pods, pods a worker is still busy with), read once per pass after the listing. */
  readonly knownPods: () => ReadonlySet<string>;
  /** Called before a container is removed (its log files go first, as upstream removeContainer does). */
  readonly beforeRemoveContainer?: (containerId: string) => Promise<void> | void;
  readonly log?: (msg: string) => void;
}

export class OrphanCleanup {
  private pass: Promise<readonly OrphanedPod[]> | null = null;

  constructor(private readonly o: OrphanCleanupOptions) {}

  /** One pass; a call while a pass runs joins it. Resolves with the pods cleaned up. */
  cleanup(): Promise<readonly OrphanedPod[]> {
    if (this.pass) return this.pass;
    const pass = this.run().finally(() => {
      if (this.pass === pass) this.pass = null;
    });
    this.pass = pass;
    return pass;
  }

  private async run(): Promise<readonly OrphanedPod[]> {
    await this.o.sourcesReady();
    const { cri } = this.o;
    const [sandboxes, containers] = await Promise.all([cri.listPodSandbox({}), cri.listContainers({})]);
    const known = this.o.knownPods();
    const orphans = findOrphanedPods(sandboxes.items, containers.containers, (uid) => known.has(uid));
    for (const pod of orphans) {
      this.o.log?.(`housekeeping: cleaning up orphaned pod ${pod.namespace}/${pod.name} (${pod.uid}): ${pod.sandboxIds.length} sandbox(es), ${pod.containerIds.length} container(s)`);
      try {
        await this.remove(pod);
      } catch (e) {
        this.o.log?.(`housekeeping: orphaned pod ${pod.uid}: ${(e as Error).message}`);
      }
    }
    return orphans;
  }

  private async remove(pod: OrphanedPod): Promise<void> {
    const { cri } = this.o;
    await Promise.all(pod.runningContainerIds.map((containerId) => ignoreNotFound(() => cri.stopContainer({ containerId, timeout: ORPHAN_STOP_TIMEOUT_SECONDS }))));
    for (const podSandboxId of pod.sandboxIds) await ignoreNotFound(() => cri.stopPodSandbox({ podSandboxId }));
    for (const containerId of pod.containerIds) {
      await this.o.beforeRemoveContainer?.(containerId);
      await ignoreNotFound(() => cri.removeContainer({ containerId }));
    }
    for (const podSandboxId of pod.sandboxIds) await ignoreNotFound(() => cri.removePodSandbox({ podSandboxId }));
  }
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!CriError.is(e, 'NotFound')) throw e;
  }
}
