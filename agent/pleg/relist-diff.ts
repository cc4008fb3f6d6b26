/**
 * The PLEG's diff between two relists (upstream pkg/kubelet/pleg/generic.go generateEvents): per pod,
 * per container or sandbox id, the old and new state give the lifecycle events the pod worker reacts to.
 * Created containers count as 'unknown' as upstream does (the kubelet never acts on "created").
 */
import type { RuntimePodStatus } from '../kuberuntime/runtime-status.js';

export type PlegState = 'running' | 'exited' | 'unknown' | 'non-existent';

export type PlegEventType = 'ContainerStarted' | 'ContainerDied' | 'ContainerRemoved' | 'ContainerChanged';

export interface PlegEvent {
  readonly podUid: string;
  readonly type: PlegEventType;
  /** Container or sandbox id. */
  readonly id: string;
}

/** podUid → (container/sandbox id → state). */
export type RelistSnapshot = ReadonlyMap<string, ReadonlyMap<string, PlegState>>;

/** The PLEG's view (id → state) of a pod's runtime status as a sync read it. */
export function plegStatesOf(runtime: RuntimePodStatus): Map<string, PlegState> {
  const states = new Map<string, PlegState>();
  for (const sb of runtime.sandboxStatuses) states.set(sb.id, sb.state === 'ready' ? 'running' : 'exited');
  for (const c of runtime.containerStatuses) states.set(c.id, c.state === 'running' || c.state === 'exited' ? c.state : 'unknown');
  return states;
}

/** Whether two per-pod PLEG views hold the same ids in the same states. */
export function samePlegStates(a: ReadonlyMap<string, PlegState>, b: ReadonlyMap<string, PlegState>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, state] of a) if (b.get(id) !== state) return false;
  return true;
}

export function criContainerState(state: string): PlegState {
  switch (state) {
    case 'CONTAINER_RUNNING':
      return 'running';
    case 'CONTAINER_EXITED':
      return 'exited';
    default:
      return 'unknown';
  }
}

export function criSandboxState(state: string): PlegState {
  return state === 'SANDBOX_READY' ? 'running' : 'exited';
}

function eventsFor(podUid: string, id: string, oldState: PlegState, newState: PlegState): PlegEvent[] {
  if (oldState === newState) return [];
  switch (newState) {
    case 'running':
      return [{ podUid, type: 'ContainerStarted', id }];
    case 'exited':
      return [{ podUid, type: 'ContainerDied', id }];
    case 'unknown':
      return [{ podUid, type: 'ContainerChanged', id }];
    case 'non-existent':
      if (oldState === 'exited') return [{ podUid, type: 'ContainerRemoved', id }];
      return [
        { podUid, type: 'ContainerDied', id },
        { podUid, type: 'ContainerRemoved', id },
      ];
  }
}

export function relistDiff(previous: RelistSnapshot, current: RelistSnapshot): PlegEvent[] {
  const events: PlegEvent[] = [];
  const pods = new Set([...previous.keys(), ...current.keys()]);
  for (const uid of [...pods].sort()) {
    const before = previous.get(uid) ?? new Map<string, PlegState>();
    const after = current.get(uid) ?? new Map<string, PlegState>();
    const ids = new Set([...before.keys(), ...after.keys()]);
    for (const id of [...ids].sort()) {
      events.push(...eventsFor(uid, id, before.get(id) ?? 'non-existent', after.get(id) ?? 'non-existent'));
    }
  }
  return events;
}
