import type { V1Pod } from '@kubernetes/client-node';
import { POD_READY, podReadyCondition } from '../status/conditions.js';
import type { PodPhase } from '../status/phase.js';

/**
 * What a pod update from the config source asks of the kubelet (upstream config.checkAndUpdatePod and
 * HandlePodReconcile): a change to what the kubelet runs (spec, labels, annotations, deletion) is an
 * update to sync; a change of the status alone is a reconcile, since the kubelet is the source of truth
 * of the status. Its own status writes come back through the watch as exactly such changes, so
 * syncing on them would cost a full pod sync per status write.
 */
export type PodUpdateKind = 'update' | 'reconcile';

/** upstream podsDifferSemantically. */
export function podsDifferSemantically(existing: V1Pod, next: V1Pod): boolean {
  const a = existing.metadata;
  const b = next.metadata;
  return !(
    sameValue(existing.spec, next.spec) &&
    sameValue(a?.labels ?? {}, b?.labels ?? {}) &&
    sameValue(a?.annotations ?? {}, b?.annotations ?? {}) &&
    sameValue(a?.deletionTimestamp, b?.deletionTimestamp) &&
    a?.deletionGracePeriodSeconds === b?.deletionGracePeriodSeconds &&
    a?.generation === b?.generation
  );
}

/**
 * Deep equality of API values as they mean on the wire: listed objects arrive as client-node models
 * (Date times, keys present with undefined) and watched ones as plain JSON (time strings), so a key
 * holding undefined counts as absent, prototypes are ignored and a time equals its RFC 3339 text.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    if (a == null || b == null) return false;
    const ta = new Date(a as Date | string).getTime();
    return !Number.isNaN(ta) && ta === new Date(b as Date | string).getTime();
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    if (a.length !== bs.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], bs[i])) return false;
    return true;
  }
  // Every status write comes back as a pod update compared here in full: plain loops, no key lists
  // filtered and no closures per object.
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let defined = 0;
  for (const k of Object.keys(ao)) {
    const v = ao[k];
    if (v === undefined) continue;
    defined++;
    if (!sameValue(v, bo[k])) return false;
  }
  for (const k of Object.keys(bo)) if (bo[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * upstream status.NeedToReconcilePodReadiness: a pod with readiness gates whose published Ready
 * condition disagrees with its conditions now (a controller set a gate's condition) needs a sync.
 */
export function needToReconcilePodReadiness(pod: V1Pod): boolean {
  if ((pod.spec?.readinessGates ?? []).length === 0) return false;
  const status = pod.status ?? {};
  const current = (status.conditions ?? []).find((c) => c.type === POD_READY);
  if (!current) return false;
  const statuses = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  const expected = podReadyCondition(pod, status.conditions ?? [], statuses, (status.phase ?? 'Pending') as PodPhase);
  return current.status !== expected.status || (current.message ?? '') !== (expected.message ?? '');
}

/** Whether the kubelet syncs the pod for this update ('update') or only takes the new object ('reconcile'). */
export function podUpdateKind(existing: V1Pod, next: V1Pod): PodUpdateKind {
  if (podsDifferSemantically(existing, next)) return 'update';
  return needToReconcilePodReadiness(next) ? 'update' : 'reconcile';
}
