/**
 * Local storage limit evictions (kubelet-semantics §5.5 step 2; upstream eviction_manager.go
 * localStorageEviction): before any threshold, each pod is checked in this order and evicted for the
 * first limit it exceeds —
 *   1. an emptyDir whose measured usage exceeds its sizeLimit:
 *      `Usage of EmptyDir volume "data" exceeds the limit "8Ki". ` (kubelet_evictions label emptydirfs.limit);
 *   2. the pod's ephemeral usage (container rootfs + container logs + local ephemeral volumes) over the
 *      sum of its containers' ephemeral-storage limits: ephemeralpodfs.limit;
 *   3. one container's logs (plus its rootfs unless writable layers live on a dedicated imagefs) over its
 *      own limit: ephemeralcontainerfs.limit.
 * Pure: usage comes from the stats summary (CRI stats plus what the agent measured on disk).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Quantity } from '../resources/quantity.js';
import type { ContainerUsage } from './message.js';
import type { FilesystemLayout, PodUsage } from './ranking.js';

/** Local storage limit violations, as kubelet_evictions labels them. */
export type LocalStorageEvictionSignal = 'emptydirfs.limit' | 'ephemeralpodfs.limit' | 'ephemeralcontainerfs.limit';

/** A pod's usage with what the limit checks need beyond ranking: per container and per volume. */
export interface LocalStorageUsage extends PodUsage {
  readonly containers?: readonly ContainerUsage[];
  /** Measured usage of the pod's volumes by spec name (absent: not measured, never evicted for). */
  readonly volumes?: ReadonlyArray<{ readonly name: string; readonly usedBytes: bigint }>;
}

export interface LocalStorageViolation {
  readonly signal: LocalStorageEvictionSignal;
  readonly message: string;
}

function quantity(value: unknown): Quantity | null {
  if (value === undefined || value === null) return null;
  try {
    return Quantity.parse(String(value));
  } catch {
    // The API server validated the quantity; a static pod with a malformed one sets no limit here.
    return null;
  }
}

/** Upstream emptyDirLimitEviction: only a positive sizeLimit with a measured usage counts. */
function emptyDirViolation(pod: V1Pod, stats: LocalStorageUsage): LocalStorageViolation | null {
  const used = new Map((stats.volumes ?? []).map((v) => [v.name, v.usedBytes]));
  for (const volume of pod.spec?.volumes ?? []) {
    if (!volume.emptyDir) continue;
    const limit = quantity(volume.emptyDir.sizeLimit);
    const usage = used.get(volume.name);
    if (limit === null || limit.sign() <= 0 || usage === undefined) continue;
    if (Quantity.fromBigInt(usage, 'BinarySI').cmp(limit) > 0) {
      return { signal: 'emptydirfs.limit', message: `Usage of EmptyDir volume ${JSON.stringify(volume.name)} exceeds the limit ${JSON.stringify(limit.toString())}. ` };
    }
  }
  return null;
}

/**
 * The first local storage limit the pod exceeds, or null (also when the pod has no stats).
 * @example localStorageViolation(pod, { volumes: [{ name: 'data', usedBytes: 20480n }] })
 *   // { signal: 'emptydirfs.limit', message: 'Usage of EmptyDir volume "data" exceeds the limit "8Ki". ' }
 */
export function localStorageViolation(pod: V1Pod, stats: LocalStorageUsage | null, layout: FilesystemLayout = 'shared'): LocalStorageViolation | null {
  if (stats === null) return null;
  const emptyDir = emptyDirViolation(pod, stats);
  if (emptyDir !== null) return emptyDir;
  const podLimit = podEphemeralStorageLimit(pod);
  if (podLimit !== null) {
    const used = Quantity.fromBigInt((stats.rootfsBytes ?? 0n) + (stats.logsBytes ?? 0n) + (stats.localVolumesBytes ?? 0n), 'BinarySI');
    if (used.cmp(podLimit) > 0) {
      return { signal: 'ephemeralpodfs.limit', message: `Pod ephemeral local storage usage exceeds the total limit of containers ${podLimit.toString()}. ` };
    }
  }
  const limits = new Map<string, Quantity>();
  for (const c of pod.spec?.containers ?? []) {
    const q = quantity(c.resources?.limits?.['ephemeral-storage']);
    if (q !== null && !q.isZero()) limits.set(c.name, q);
  }
  for (const c of stats.containers ?? []) {
    const limit = limits.get(c.name);
    if (limit === undefined) continue;
    const used = Quantity.fromBigInt((c.logsBytes ?? 0n) + (layout === 'imagefs' ? 0n : (c.rootfsBytes ?? 0n)), 'BinarySI');
    if (limit.cmp(used) < 0) {
      return { signal: 'ephemeralcontainerfs.limit', message: `Container ${c.name} exceeded its local ephemeral storage limit ${JSON.stringify(limit.toString())}. ` };
    }
  }
  return null;
}

/** Upstream PodLimits for ephemeral-storage: containers summed, at least any init container's, plus overhead; null when no container sets one. */
export function podEphemeralStorageLimit(pod: V1Pod): Quantity | null {
  let total: Quantity | null = null;
  for (const c of pod.spec?.containers ?? []) {
    const q = quantity(c.resources?.limits?.['ephemeral-storage']);
    if (q) total = total ? total.add(q) : q;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const q = quantity(c.resources?.limits?.['ephemeral-storage']);
    if (c.restartPolicy === 'Always') {
      if (q) total = total ? total.add(q) : q;
    } else if (q && (total === null || q.cmp(total) > 0)) {
      total = q;
    }
  }
  const overhead = quantity(pod.spec?.overhead?.['ephemeral-storage']);
  if (total !== null && overhead !== null) total = total.add(overhead);
  return total;
}
