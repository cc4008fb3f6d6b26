/**
 * The kubelet's orphan cleanup (upstream HandlePodCleanups, run at startup and every housekeeping period):
 * once every pod source has been listed, sandboxes and containers labelled for pods the kubelet does not
 * know — not in the API, not static, not owned by a pod worker — are stopped (containers first, with the
 * 1 s orphan grace period floored at 2 s, then their sandboxes) and removed.
 *
 * As upstream kills them (SyncTerminatingRuntimePod): through a bare pod made from the runtime listing,
 * so each running container gets a `Killing` event and a kill with failures a `FailedKillPod` event on
 * the pod (orphan-events.ts), but no preStop hook runs — the bare pod has no lifecycle, and upstream
 * says it cannot run lifecycle operations without the spec. (The preStopHandler annotation is read back
 * only by killContainer with no pod at all, which the kubelet no longer does since 1.22.) Every running
 * container is stopped in parallel and every sandbox after them even when a container's stop failed;
 * removal waits for a pass in which the kill succeeded. Then the pod directories (`<root>/pods/<uid>`)
 * and pod log directories of such pods go too (upstream cleanupOrphanedPodDirs and the container GC's
 * log directory eviction) — except a pod directory still holding a CSI volume, which may be mounted.
 *
 * Not racing admission: the known set is read after the runtime and the directories were listed, so a
 * pod whose sandbox or directory is in a listing was admitted (or given to a worker) before — admission
 * happens before any sandbox or directory. Passes never overlap. An object that went away since the
 * listing (its pod finished terminating meanwhile) is a NotFound, ignored.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventRecorder, RecordedEvent } from '../api/events.js';
import type { CriClient } from '../runtime/cri-client.js';
import { CriError } from '../runtime/rpc-error.js';
import { PLUGIN, escapePluginName, podDir, podVolumesDir } from '../volumes/paths.js';
import { orphanKillFailedEvent, orphanKillingEvent, type OrphanKillFailure } from './orphan-events.js';
import { ORPHAN_STOP_TIMEOUT_SECONDS, findOrphanedDirectories, findOrphanedPods, type OrphanScope, type OrphanedPod, type RuntimeObject } from './orphans.js';

export interface OrphanCleanupOptions {
  readonly cri: Pick<CriClient, 'listPodSandbox' | 'listContainers' | 'stopContainer' | 'removeContainer' | 'stopPodSandbox' | 'removePodSandbox'>;
  /** Resolves once every pod source (API informer, static pod directory) has delivered its first listing. */
  readonly sourcesReady: () => Promise<void>;
  /** The pod UIDs the kubelet knows (API pods, static pods, pods a worker is still busy with), read once per pass after the listing. */
  readonly knownPods: () => ReadonlySet<string>;
  /** Called before a container is removed (its log files go first, as upstream removeContainer does). */
  readonly beforeRemoveContainer?: (containerId: string) => Promise<void> | void;
  /** Which unknown pods may be cleaned up (default: all, as the kubelet owning its runtime). */
  readonly scope?: OrphanScope;
  /** The kubelet root dir: orphaned `<rootDir>/pods/<uid>` directories are removed (none when absent). */
  readonly rootDir?: string;
  /** podLogsDir: orphaned `<podLogsDir>/<namespace>_<name>_<uid>` directories are removed (none when absent). */
  readonly podLogsDir?: string;
  /** Where the Killing and FailedKillPod events of orphans go (none recorded when absent). */
  readonly recorder?: EventRecorder;
  /**
   * Called once per pass for each orphaned pod the runtime still runs (a container not exited or a
   * ready sandbox): upstream counts these in kubelet_orphaned_runtime_pods_total.
   */
  readonly onRunningOrphan?: (pod: OrphanedPod) => void;
  readonly log?: (msg: string) => void;
}

/** What one pass cleaned up. */
export interface OrphanCleanupReport {
  readonly pods: readonly OrphanedPod[];
  /** UIDs whose pod directory was removed. */
  readonly podDirs: readonly string[];
  /** Pod log directory names removed. */
  readonly logDirs: readonly string[];
}

/** A runtime listing the caller already made (the housekeeping tick lists the runtime for its gauges). */
export interface RuntimeListing {
  readonly sandboxes: readonly RuntimeObject[];
  readonly containers: readonly RuntimeObject[];
}

export class OrphanCleanup {
  private pass: Promise<OrphanCleanupReport> | null = null;
  private sourcesWereReady = false;

  constructor(private readonly o: OrphanCleanupOptions) {}

  /**
   * One pass; a call while a pass runs joins it. Resolves with what was cleaned up. A listing handed in
   * saves the pass its own, once the sources have been ready (before that, it could be long stale by the
   * time they are, so the pass lists afresh).
   */
  cleanup(listing?: RuntimeListing): Promise<OrphanCleanupReport> {
    if (this.pass) return this.pass;
    const pass = this.run(this.sourcesWereReady ? listing : undefined).finally(() => {
      if (this.pass === pass) this.pass = null;
    });
    this.pass = pass;
    return pass;
  }

  private async run(listing: RuntimeListing | undefined): Promise<OrphanCleanupReport> {
    await this.o.sourcesReady();
    this.sourcesWereReady = true;
    const { cri, rootDir, podLogsDir } = this.o;
    const [runtime, podDirNames, logDirNames] = await Promise.all([
      listing ?? Promise.all([cri.listPodSandbox({}), cri.listContainers({})]).then(([s, c]) => ({ sandboxes: s.items, containers: c.containers })),
      rootDir === undefined ? [] : names(join(rootDir, 'pods')),
      podLogsDir === undefined ? [] : names(podLogsDir),
    ]);
    const known = this.o.knownPods();
    const orphans = findOrphanedPods(runtime.sandboxes, runtime.containers, (uid) => known.has(uid), this.o.scope);
    const leftInRuntime = new Set<string>();
    const ready = new Set(runtime.sandboxes.filter((s) => s.state === 'SANDBOX_READY' || s.state === 0).map((s) => s.id));
    for (const pod of orphans) {
      if (pod.runningContainers.length > 0 || pod.sandboxIds.some((id) => ready.has(id))) this.o.onRunningOrphan?.(pod);
      this.o.log?.(`housekeeping: cleaning up orphaned pod ${pod.namespace}/${pod.name} (${pod.uid}): ${pod.sandboxIds.length} sandbox(es), ${pod.containerIds.length} container(s)`);
      try {
        await this.remove(pod);
      } catch (e) {
        leftInRuntime.add(pod.uid);
        this.o.log?.(`housekeeping: orphaned pod ${pod.uid}: ${(e as Error).message}`);
      }
    }
    const dirs = findOrphanedDirectories(podDirNames, logDirNames, (uid) => known.has(uid), (uid) => leftInRuntime.has(uid), this.o.scope);
    const podDirs: string[] = [];
    for (const uid of dirs.podDirs) {
      if (await this.removePodDir(uid)) podDirs.push(uid);
    }
    const logDirs: string[] = [];
    for (const name of dirs.logDirs) {
      try {
        await rm(join(podLogsDir!, name), { recursive: true, force: true });
        logDirs.push(name);
      } catch (e) {
        this.o.log?.(`housekeeping: removing orphaned pod log directory ${name}: ${(e as Error).message}`);
      }
    }
    return { pods: orphans, podDirs, logDirs };
  }

  /** A pod directory with a CSI volume left in it is kept: the volume may still be mounted there. */
  private async removePodDir(uid: string): Promise<boolean> {
    const root = this.o.rootDir!;
    const csi = await names(join(podVolumesDir(root, uid), escapePluginName(PLUGIN.csi)));
    if (csi.length > 0) {
      this.o.log?.(`housekeeping: orphaned pod ${uid} found, but its CSI volumes (${csi.join(', ')}) are not cleaned up; keeping its directory`);
      return false;
    }
    try {
      await rm(podDir(root, uid), { recursive: true, force: true });
      return true;
    } catch (e) {
      this.o.log?.(`housekeeping: removing orphaned pod directory ${uid}: ${(e as Error).message}`);
      return false;
    }
  }

  private record(e: RecordedEvent): void {
    this.o.recorder?.event(e.ref, e.type, e.reason, e.message);
  }

  private async remove(pod: OrphanedPod): Promise<void> {
    const { cri } = this.o;
    const failures: OrphanKillFailure[] = [];
    await Promise.all(
      pod.runningContainers.map(async ({ id: containerId, name }) => {
        this.record(orphanKillingEvent(pod, name));
        try {
          await ignoreNotFound(() => cri.stopContainer({ containerId, timeout: ORPHAN_STOP_TIMEOUT_SECONDS }));
        } catch (e) {
          failures.push({ action: 'KillContainer', target: name, message: (e as Error).message });
        }
      }),
    );
    for (const podSandboxId of pod.sandboxIds) {
      try {
        await ignoreNotFound(() => cri.stopPodSandbox({ podSandboxId }));
      } catch (e) {
        failures.push({ action: 'KillPodSandbox', target: pod.uid, message: (e as Error).message });
      }
    }
    if (failures.length > 0) {
      const event = orphanKillFailedEvent(pod, failures);
      this.record(event);
      throw new Error(event.message);
    }
    for (const containerId of pod.containerIds) {
      await this.o.beforeRemoveContainer?.(containerId);
      await ignoreNotFound(() => cri.removeContainer({ containerId }));
    }
    for (const podSandboxId of pod.sandboxIds) await ignoreNotFound(() => cri.removePodSandbox({ podSandboxId }));
  }
}

/** Entry names of a directory; none when it does not exist. */
async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    if (!CriError.is(e, 'NotFound')) throw e;
  }
}
