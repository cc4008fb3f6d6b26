/**
 * The events the kubelet records while it kills an orphaned pod (upstream kubelet.go
 * SyncTerminatingRuntimePod → kuberuntime killPodWithSyncResult/killContainer). With no pod spec, the
 * kubelet builds a bare pod from the runtime (kubecontainer Pod.ToAPIPod: UID, name, namespace, one
 * container per running container carrying only its name) and kills through it, so each running
 * container gets a `Killing` event and a failed kill a `FailedKillPod` event on the pod. That bare pod
 * has no lifecycle, so no preStop hook runs (see orphan-cleanup.ts). Pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { EventReason, containerRef, podRef, type RecordedEvent } from '../api/events.js';
import type { OrphanedPod } from './orphans.js';

/** The pod upstream kills an orphan through: identity and the running containers' names, nothing else. */
export function orphanAsApiPod(pod: OrphanedPod): V1Pod {
  return {
    metadata: { uid: pod.uid, name: pod.name, namespace: pod.namespace },
    spec: { containers: pod.runningContainers.map((c) => ({ name: c.name })) },
  };
}

/**
 * The `Killing` event for one running container of an orphan, recorded just before its StopContainer.
 * @example orphanKillingEvent(pod, 'app').message // 'Stopping container app'
 */
export function orphanKillingEvent(pod: OrphanedPod, containerName: string): RecordedEvent {
  return {
    ref: containerRef(orphanAsApiPod(pod), { name: containerName }),
    type: 'Normal',
    reason: EventReason.Killing,
    message: `Stopping container ${containerName}`,
  };
}

/** One step of an orphan's kill that failed: a container's stop or a sandbox's stop. */
export interface OrphanKillFailure {
  readonly action: 'KillContainer' | 'KillPodSandbox';
  /** The container name for KillContainer, the pod UID for KillPodSandbox (as upstream's sync results name them). */
  readonly target: string;
  readonly message: string;
}

/**
 * The `FailedKillPod` event after a kill with failures, worded as upstream's sync result errors
 * (one failure alone, several in brackets). Throws when there is nothing that failed.
 * @example orphanKillFailedEvent(pod, [{ action: 'KillPodSandbox', target: 'u1', message: 'busy' }]).message
 * // 'error killing pod: failed to "KillPodSandbox" for "u1" with KillPodSandboxError: "busy"'
 */
export function orphanKillFailedEvent(pod: OrphanedPod, failures: readonly OrphanKillFailure[]): RecordedEvent {
  if (failures.length === 0) throw new RangeError('orphanKillFailedEvent: failures is empty');
  const each = failures.map((f) => `failed to ${JSON.stringify(f.action)} for ${JSON.stringify(f.target)} with ${f.action}Error: ${JSON.stringify(f.message)}`);
  const joined = each.length === 1 ? each[0]! : `[${each.join(', ')}]`;
  return { ref: podRef(orphanAsApiPod(pod)), type: 'Warning', reason: EventReason.FailedKillPod, message: `error killing pod: ${joined}` };
}
