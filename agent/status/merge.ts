import type { V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { KUBELET_OWNED_CONDITIONS } from './conditions.js';

/**
 * What the status manager does to a freshly generated status before caching and publishing it
 * (upstream status_manager.go updateStatusInternal): keep each kubelet condition's
 * lastTransitionTime while its status does not change, keep the first startTime, truncate times to
 * seconds, and refuse a container going from terminated back to running when it may not restart.
 */

/**
 * The last second formatted: a burst's statuses and Events carry the same few seconds over and over
 * (each status write formats every condition's time), so the text is kept for the latest one.
 */
let lastSecond = Number.NaN;
let lastText = '';

/** Whole seconds, as metav1.Time serializes (RFC 3339 without fraction). */
export function toApiTime(value: Date | string | number): string {
  const ms = value instanceof Date ? value.getTime() : new Date(value).getTime();
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    // An invalid time (NaN) never matches and throws here, as toISOString does.
    lastText = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    lastSecond = second;
  }
  return lastText;
}

function findCondition(status: V1PodStatus | undefined, type: string): V1PodCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * The status to cache: `next` with the bookkeeping applied. A shallow copy: the conditions are new
 * objects, everything else is shared with `next`, which callers hand over and no longer change.
 */
export function mergeForUpdate(oldStatus: V1PodStatus | undefined, next: V1PodStatus, now: number): V1PodStatus {
  const merged: V1PodStatus = { ...next };
  merged.conditions = (next.conditions ?? []).map((c) => {
    if (!KUBELET_OWNED_CONDITIONS.has(c.type)) return c;
    const old = findCondition(oldStatus, c.type);
    const out: V1PodCondition = { ...c };
    out.lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? new Date(old.lastTransitionTime) : new Date(now);
    return out;
  });
  if (oldStatus?.startTime) merged.startTime = new Date(oldStatus.startTime);
  else if (!merged.startTime) merged.startTime = new Date(now);
  return merged;
}

function wontRestart(pod: V1Pod, exitCode: number): boolean {
  const policy = pod.spec?.restartPolicy ?? 'Always';
  return policy === 'Never' || (policy === 'OnFailure' && exitCode === 0);
}

/**
 * upstream checkContainerStateTransition: a regular container that terminated and will not be
 * restarted must not be reported as anything else afterwards. Returns the offending container's name.
 */
export function illegalContainerTransition(pod: V1Pod, oldStatus: V1PodStatus | undefined, next: V1PodStatus): string | undefined {
  const check = (olds: readonly V1ContainerStatus[] | undefined, news: readonly V1ContainerStatus[] | undefined): string | undefined => {
    for (const o of olds ?? []) {
      const term = o.state?.terminated;
      if (!term || !wontRestart(pod, term.exitCode)) continue;
      const n = news?.find((s) => s.name === o.name);
      if (n && !n.state?.terminated) return o.name;
    }
    return undefined;
  };
  return check(oldStatus?.containerStatuses, next.containerStatuses);
}

/**
 * Plain JSON of a status with times in the API's second precision (for patches and comparisons), as
 * JSON.stringify would give it: undefined members dropped, undefined array items as null.
 */
export function statusToJson(status: V1PodStatus): Record<string, unknown> {
  return toJson(status) as Record<string, unknown>;
}

function toJson(value: unknown): unknown {
  if (value instanceof Date) return toApiTime(value);
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : toJson(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && typeof v !== 'function') out[k] = toJson(v);
    }
    return out;
  }
  return value;
}

/**
 * A status as one string, for the status manager to tell an unchanged status cheaply: equal strings
 * mean equal statuses. Not canonical (key order, millisecond times), so two equal statuses built
 * differently may differ, which costs one redundant write; the kubelet builds them in one fixed order.
 */
export function statusKey(status: V1PodStatus): string {
  return JSON.stringify(status);
}

/** Equality of two statuses as published (second precision, key order ignored). */
export function sameStatus(a: V1PodStatus | undefined, b: V1PodStatus | undefined): boolean {
  if (!a || !b) return a === b;
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value instanceof Date) return JSON.stringify(toApiTime(value));
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonical(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
