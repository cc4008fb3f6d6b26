import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRef, podRef, type EventRecorder } from '../api/events.js';
import type { Clock } from '../clock/clock.js';
import type { KubeletConfiguration } from '../config/types.js';
import { POD_UID_LABEL } from '../kuberuntime/labels.js';
import { podVolumesDir } from '../volumes/paths.js';
import { podUid } from '../kuberuntime/pod-helpers.js';
import type { CriClient } from '../runtime/cri-client.js';
import type { KubeletMetrics } from '../metrics/kubelet-metrics.js';
import { podCgroupsDecision } from './activation.js';
import { CgroupManager } from './cgroup-manager.js';
import { FAILED_TO_CREATE_POD_CONTAINER, PodContainerManager } from './container-manager.js';

/**
 * The Kubelet's side of pod cgroups: deciding at start whether it manages them (saying why not in a
 * log line, and for the systemd driver in a node event too), and the hooks the pod syncer calls around a pod's life.
 */

export interface PodCgroupsStartInput {
  readonly config: KubeletConfiguration;
  /** The driver after adopting the runtime's. */
  readonly cgroupDriver: 'cgroupfs' | 'systemd';
  readonly runtimeName: string;
  readonly cgroupfsRoot?: string | undefined;
  readonly sharedHost?: boolean | undefined;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly recorder: EventRecorder;
  readonly metrics: KubeletMetrics;
  /** Node capacity (cpu, memory, pid) for the kubepods limits. */
  readonly capacity: () => Record<string, string>;
  readonly activePods: () => readonly V1Pod[];
  /** The kubelet root dir, where pods' volume directories live (pods/<uid>/volumes). */
  readonly rootDir?: string;
  readonly log: (msg: string) => void;
}

/** The node event reason when the systemd driver leaves pod cgroups to the runtime. */
export const POD_CGROUPS_UNMANAGED = 'PodCgroupsUnmanaged';

/** Starts the pod container manager, or returns null after logging why pod cgroups are not managed. */
export async function startPodCgroups(input: PodCgroupsStartInput): Promise<PodContainerManager | null> {
  const c = input.config;
  const decision = podCgroupsDecision({
    cgroupsPerQOS: c.cgroupsPerQOS,
    cgroupDriver: input.cgroupDriver,
    cgroupRoot: c.cgroupRoot,
    ...(input.cgroupfsRoot !== undefined ? { cgroupfsRoot: input.cgroupfsRoot } : {}),
    runtimeName: input.runtimeName,
    runningAsRoot: process.getuid?.() === 0,
  });
  if (!decision.manage) {
    input.log(`pod cgroups not managed: ${decision.reason}`);
    // A systemd node's pod cgroups exist (the runtime makes them) but carry no kubelet settings: say so on the node.
    if (c.cgroupsPerQOS && input.cgroupDriver === 'systemd') input.recorder.event(nodeRef(input.nodeName), 'Normal', POD_CGROUPS_UNMANAGED, decision.reason);
    return null;
  }
  const failed = (e: unknown): Error =>
    new Error(
      `pod cgroups under ${decision.root}: ${(e as Error).message} (to run without pod cgroups set cgroupsPerQOS: false and enforceNodeAllocatable: [])`,
    );
  const cgroups = await CgroupManager.open({ root: decision.root, clock: input.clock, metrics: input.metrics }).catch((e: unknown) => {
    throw failed(e);
  });
  const manager = new PodContainerManager({
    cgroups,
    clock: input.clock,
    recorder: input.recorder,
    nodeName: input.nodeName,
    pods: { enforceCpuLimits: c.cpuCFSQuota, cpuPeriodUs: c.cpuCFSQuotaPeriod * 1000, podPidsLimit: c.podPidsLimit },
    nodeAllocatable: () => ({
      capacity: { ...hostPidCapacity(), ...input.capacity() },
      kubeReserved: c.kubeReserved,
      systemReserved: c.systemReserved,
      enforceNodeAllocatable: c.enforceNodeAllocatable,
    }),
    activePods: input.activePods,
    sharedHost: input.sharedHost === true,
    ...(input.rootDir !== undefined ? { podVolumesExist: volumeDirsExist(input.rootDir) } : {}),
    log: input.log,
  });
  await manager.start().catch((e: unknown) => {
    manager.stop();
    throw failed(e);
  });
  input.log(`pod cgroups managed under ${decision.root} (cgroup v${cgroups.version})`);
  return manager;
}

export interface PodCgroupHooks {
  ensure(pod: V1Pod): Promise<void>;
  destroy(pod: V1Pod): Promise<void>;
  /** One resource of the pod cgroup to the allocated pod's settings (in-place resize). */
  resize(pod: V1Pod, resource: 'cpu' | 'memory'): Promise<void>;
}

/** The UIDs of the pods the runtime still has a sandbox of (ready or not). */
export async function podSandboxUids(cri: Pick<CriClient, 'listPodSandbox'>): Promise<Set<string>> {
  const { items } = await cri.listPodSandbox({});
  return new Set(items.flatMap((sb) => (sb.labels?.[POD_UID_LABEL] ? [sb.labels[POD_UID_LABEL]] : [])));
}

/**
 * ensure: before the pod's sandbox; a failure is a FailedToCreatePodContainer event and a failed sync
 * (upstream SyncPod). destroy: after the pod terminated, once the runtime has no sandbox of it left
 * (containerd reads a sandbox's cgroup_parent until the sandbox is removed); otherwise, and on
 * failure, housekeeping removes it later.
 */
export function podCgroupHooks(
  manager: () => PodContainerManager | null,
  cri: Pick<CriClient, 'listPodSandbox'>,
  recorder: EventRecorder,
  log: (msg: string) => void,
): PodCgroupHooks {
  return {
    async ensure(pod) {
      const m = manager();
      if (!m) return;
      try {
        await m.ensurePodCgroup(pod);
      } catch (e) {
        const message = (e as Error).message;
        recorder.event(podRef(pod), 'Warning', FAILED_TO_CREATE_POD_CONTAINER, `unable to ensure pod container exists: ${message}`);
        throw new Error(`failed to ensure that the pod: ${podUid(pod)} cgroups exist and are correctly applied: ${message}`);
      }
    },
    async resize(pod, resource) {
      await manager()?.resizePodCgroup(pod, resource);
    },
    async destroy(pod) {
      const m = manager();
      if (!m) return;
      try {
        const { items } = await cri.listPodSandbox({ filter: { labelSelector: { [POD_UID_LABEL]: podUid(pod) } } });
        if (items.length > 0) return log(`pod ${podUid(pod)} still has ${items.length} sandbox(es): its cgroup is left for housekeeping`);
        await m.destroyPodCgroup(pod);
      } catch (e) {
        log(`removing the cgroup of pod ${podUid(pod)}: ${(e as Error).message}`);
      }
    },
  };
}

/** The node's pid capacity as the kubelet counts it: min(kernel.pid_max, kernel.threads-max); none when unreadable. */
function hostPidCapacity(): Record<string, string> {
  const read = (path: string): number | undefined => {
    try {
      const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const limits = [read('/proc/sys/kernel/pid_max'), read('/proc/sys/kernel/threads-max')].filter((n): n is number => n !== undefined);
  return limits.length > 0 ? { pid: String(Math.min(...limits)) } : {};
}

/** upstream podVolumesExist: any volume directory left under <root>/pods/<uid>/volumes/<plugin>/. */
function volumeDirsExist(rootDir: string): (uid: string) => boolean {
  return (uid) => {
    const dir = podVolumesDir(rootDir, uid);
    let plugins: string[];
    try {
      plugins = readdirSync(dir);
    } catch {
      return false;
    }
    return plugins.some((plugin) => {
      try {
        return readdirSync(join(dir, plugin)).length > 0;
      } catch {
        return false;
      }
    });
  };
}
