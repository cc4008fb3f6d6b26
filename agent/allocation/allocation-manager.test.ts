import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { container, pod } from '../kuberuntime/test-fixtures.js';
import { AllocationManager } from './allocation-manager.js';

function withCpu(uid: string, cpu: string, generation = 1): V1Pod {
  return pod({ containers: [container('app', { resources: { requests: { cpu } } })] }, { uid, name: uid, generation });
}

function setup(allocatable = { cpu: '4', memory: '8Gi', pods: '110' }) {
  const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 10, 27, 12, 0, 0) });
  const recorder = new MemoryEventRecorder();
  const pods = new Map<string, V1Pod>();
  const synced: string[] = [];
  const manager = new AllocationManager({
    clock,
    recorder,
    allocatable: () => allocatable,
    activePods: () => [...pods.values()],
    podByUid: (uid) => pods.get(uid),
    triggerSync: (p) => synced.push(p.metadata!.uid!),
  });
  const admit = (p: V1Pod) => {
    pods.set(p.metadata!.uid!, p);
    manager.addPod(p);
  };
  const update = (p: V1Pod) => {
    pods.set(p.metadata!.uid!, p);
    return manager.handlePodUpdate(p);
  };
  return { clock, recorder, pods, synced, manager, admit, update };
}

describe('AllocationManager', () => {
  it('allocates a feasible resize, marks it in progress and records ResizeStarted', () => {
    const { manager, recorder, admit, update } = setup();
    admit(withCpu('a', '100m'));
    expect(update(withCpu('a', '300m', 2))).toBe(true);
    expect(manager.allocation('a')?.get('app')).toEqual({ requests: { cpu: '300m' } });
    expect(manager.conditions('a')).toMatchObject([{ type: 'PodResizeInProgress', status: 'True', observedGeneration: 2 }]);
    expect(manager.conditions('a')[0]).not.toHaveProperty('reason');
    expect(recorder.events.map((e) => [e.type, e.reason])).toEqual([['Normal', 'ResizeStarted']]);
  });

  it('holds an infeasible resize as PodResizePending with one event, running the pod as allocated', () => {
    const { manager, recorder, admit, update } = setup();
    admit(withCpu('a', '100m'));
    const asked = withCpu('a', '10', 2);
    expect(update(asked)).toBe(false);
    update(asked);
    expect(manager.conditions('a')).toMatchObject([{ type: 'PodResizePending', reason: 'Infeasible', message: "Node didn't have enough capacity: cpu, requested: 10000, capacity: 4000", observedGeneration: 2 }]);
    expect(recorder.events.filter((e) => e.reason === 'ResizeInfeasible')).toHaveLength(1);
    expect(manager.allocatedPod(asked).spec?.containers[0]?.resources?.requests).toEqual({ cpu: '100m' });
  });

  it('retries a deferred resize when another pod goes away, and asks for a sync once allocated', () => {
    const { manager, recorder, pods, synced, admit, update } = setup();
    admit(withCpu('a', '100m'));
    admit(withCpu('big', '3'));
    expect(update(withCpu('a', '1500m', 2))).toBe(false);
    expect(manager.conditions('a')).toMatchObject([{ type: 'PodResizePending', reason: 'Deferred' }]);
    pods.delete('big');
    manager.removePod('big');
    expect(synced).toEqual(['a']);
    expect(manager.conditions('a')).toMatchObject([{ type: 'PodResizeInProgress' }]);
    expect(recorder.events.map((e) => e.reason)).toEqual(['ResizeDeferred', 'ResizeStarted']);
  });

  it('completes when the runtime matches, and shows an error as reason Error with one ResizeError event', () => {
    const { manager, recorder, admit, update } = setup();
    admit(withCpu('a', '100m'));
    const asked = withCpu('a', '300m', 2);
    update(asked);
    manager.afterSync(asked, true, 'failed to resize container app cpu: boom');
    manager.afterSync(asked, true, 'failed to resize container app cpu: boom');
    expect(manager.conditions('a')).toMatchObject([{ type: 'PodResizeInProgress', reason: 'Error', message: 'failed to resize container app cpu: boom' }]);
    manager.afterSync(asked, true);
    expect(manager.conditions('a')[0]?.reason).toBe('Error'); // a sync that only looked changes nothing
    manager.afterSync(asked, true, '');
    expect(manager.conditions('a')[0]).not.toHaveProperty('reason');
    manager.afterSync(asked, false);
    expect(manager.conditions('a')).toEqual([]);
    expect(recorder.events.map((e) => e.reason)).toEqual(['ResizeStarted', 'ResizeError', 'ResizeCompleted']);
    // Nothing in progress: a later look at the runtime records nothing.
    manager.afterSync(asked, false);
    expect(recorder.events).toHaveLength(3);
  });

  it('clears a pending resize when the spec goes back to the allocation', () => {
    const { manager, admit, update } = setup();
    admit(withCpu('a', '100m'));
    update(withCpu('a', '10', 2));
    expect(update(withCpu('a', '100m', 3))).toBe(false);
    expect(manager.conditions('a')).toEqual([]);
  });
});
