import type { V1Container, V1Pod } from '@kubernetes/client-node';

/**
 * Event reasons the kubelet records (upstream pkg/kubelet/events/event.go) and the recorder interface
 * every subsystem writes through. The API-backed recorder lives in ./event-recorder.ts.
 */
export const EventReason = {
  Pulling: 'Pulling',
  Pulled: 'Pulled',
  Failed: 'Failed',
  BackOff: 'BackOff',
  ErrImageNeverPull: 'ErrImageNeverPull',
  InspectFailed: 'InspectFailed',
  Created: 'Created',
  Started: 'Started',
  Killing: 'Killing',
  ExceededGracePeriod: 'ExceededGracePeriod',
  FailedPostStartHook: 'FailedPostStartHook',
  FailedPreStopHook: 'FailedPreStopHook',
  Unhealthy: 'Unhealthy',
  ProbeWarning: 'ProbeWarning',
  FailedMount: 'FailedMount',
  FailedUnMount: 'FailedUnmount',
  SandboxChanged: 'SandboxChanged',
  FailedCreatePodSandBox: 'FailedCreatePodSandBox',
  FailedKillPod: 'FailedKillPod',
  FailedSync: 'FailedSync',
  NodeReady: 'NodeReady',
  NodeNotReady: 'NodeNotReady',
  Starting: 'Starting',
  RegisteredNode: 'RegisteredNode',
  NodeHasSufficientMemory: 'NodeHasSufficientMemory',
  NodeHasNoDiskPressure: 'NodeHasNoDiskPressure',
  NodeHasSufficientPID: 'NodeHasSufficientPID',
  NodeAllocatableEnforced: 'NodeAllocatableEnforced',
  InvalidDiskCapacity: 'InvalidDiskCapacity',
} as const;

export type EventType = 'Normal' | 'Warning';

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid: string;
  readonly fieldPath?: string;
}

/** Annotations an event carries in its metadata (upstream AnnotatedEventf, e.g. the eviction manager's offending_containers). */
export type EventAnnotations = Readonly<Record<string, string>>;

export interface RecordedEvent {
  readonly ref: ObjectReference;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly annotations?: EventAnnotations;
}

export interface EventRecorder {
  event(ref: ObjectReference, type: EventType, reason: string, message: string, annotations?: EventAnnotations): void;
}

export function podRef(pod: V1Pod): ObjectReference {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? 'default',
    uid: pod.metadata?.uid ?? '',
  };
}

/** Reference to one container of a pod (upstream GenerateContainerRef): fieldPath spec.containers{name}. */
export function containerRef(pod: V1Pod, container: V1Container): ObjectReference {
  const has = (list: ReadonlyArray<{ name: string }> | undefined): boolean => (list ?? []).some((c) => c.name === container.name);
  const field = has(pod.spec?.containers) ? 'containers' : has(pod.spec?.initContainers) ? 'initContainers' : has(pod.spec?.ephemeralContainers) ? 'ephemeralContainers' : 'containers';
  return { ...podRef(pod), fieldPath: `spec.${field}{${container.name}}` };
}

export function nodeRef(nodeName: string): ObjectReference {
  // The kubelet refers to its node by name, with the name as UID.
  return { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeName };
}

/**
 * Keeps the newest `limit` events in memory (tests, and the agent running without an API server): the
 * kubelet records into one for its whole life, so an unbounded list grew with every event.
 */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];
  private readonly listeners = new Set<(e: RecordedEvent) => void>();

  constructor(private readonly limit = 10_000) {}

  event(ref: ObjectReference, type: EventType, reason: string, message: string, annotations?: EventAnnotations): void {
    const e: RecordedEvent = { ref, type, reason, message, ...(annotations ? { annotations } : {}) };
    this.events.push(e);
    // Oldest dropped a tenth of the limit at a time, so the copy is paid once per many events.
    if (this.events.length > this.limit + Math.ceil(this.limit / 10)) this.events.splice(0, this.events.length - this.limit);
    for (const l of this.listeners) l(e);
  }

  subscribe(listener: (e: RecordedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Sends every event to each of several recorders. */
export class FanOutRecorder implements EventRecorder {
  constructor(private readonly recorders: readonly EventRecorder[]) {}
  event(ref: ObjectReference, type: EventType, reason: string, message: string, annotations?: EventAnnotations): void {
    for (const r of this.recorders) r.event(ref, type, reason, message, annotations);
  }
}
