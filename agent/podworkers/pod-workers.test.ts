import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import { PodWorkers, type PodSyncer, type SyncOutcome } from './pod-workers.js';

function pod(uid: string, deleting = false): V1Pod {
  return {
    metadata: { uid, name: uid, namespace: 'default', ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    spec: { containers: [] },
  };
}

class RecordingSyncer implements PodSyncer {
  readonly calls: string[] = [];
  active = new Map<string, number>();
  maxConcurrentPerPod = 0;
  maxConcurrentOverall = 0;
  outcome: (uid: string) => SyncOutcome = () => ({ terminal: false });
  failNext = new Set<string>();
  runtimeUnchanged?: (p: V1Pod) => boolean;

  constructor(private readonly clock: VirtualClock, private readonly workMs: number) {}

  private async work(uid: string, what: string): Promise<void> {
    this.calls.push(`${what}:${uid}@${this.clock.monotonic()}`);
    this.active.set(uid, (this.active.get(uid) ?? 0) + 1);
    this.maxConcurrentPerPod = Math.max(this.maxConcurrentPerPod, this.active.get(uid)!);
    const total = [...this.active.values()].reduce((a, b) => a + b, 0);
    this.maxConcurrentOverall = Math.max(this.maxConcurrentOverall, total);
    await this.clock.sleep(this.workMs);
    this.active.set(uid, this.active.get(uid)! - 1);
    if (this.failNext.delete(`${what}:${uid}`)) throw new Error('boom');
  }

  async syncPod(p: V1Pod, kind: string): Promise<SyncOutcome> {
    await this.work(p.metadata!.uid!, `sync-${kind}`);
    return this.outcome(p.metadata!.uid!);
  }
  async syncTerminatingPod(p: V1Pod): Promise<void> {
    await this.work(p.metadata!.uid!, 'terminating');
  }
  async syncTerminatedPod(p: V1Pod): Promise<void> {
    await this.work(p.metadata!.uid!, 'terminated');
  }
  async finalizePod(p: V1Pod): Promise<void> {
    await this.work(p.metadata!.uid!, 'finalize');
  }
}

describe('PodWorkers', () => {
  it('syncs one pod serially on its latest spec while different pods sync in parallel', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 100);
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    workers.updatePod(pod('b'));
    workers.updatePod(pod('a'));
    workers.updatePod(pod('a'));
    await clock.advance(1_000);
    expect(syncer.maxConcurrentPerPod).toBe(1);
    expect(syncer.maxConcurrentOverall).toBe(2);
    // Two updates during the first sync collapse into one more sync.
    expect(syncer.calls).toEqual(['sync-create:a@0', 'sync-create:b@0', 'sync-update:a@100']);
  });

  it('resyncs after the resync period, and after the error backoff when a sync fails', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 10);
    syncer.failNext.add('sync-create:a');
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000, errorBackoffMs: 10_000 });
    workers.updatePod(pod('a'));
    await clock.advance(70_100);
    expect(syncer.calls).toEqual(['sync-create:a@0', 'sync-sync:a@10010', 'sync-sync:a@70020']);
  });

  it('honours a requested requeue delay and wakes up early on a runtime event', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 0);
    syncer.outcome = () => ({ terminal: false, requeueAfterMs: 5_000 });
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    await clock.advance(1_000);
    workers.wake('a');
    await clock.advance(5_500);
    expect(syncer.calls).toEqual(['sync-create:a@0', 'sync-sync:a@1000', 'sync-sync:a@6000']);
  });

  it('skips a PLEG wake when the syncer has already acted on that runtime state, but never any other request', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 10);
    let unchanged = true;
    syncer.runtimeUnchanged = () => unchanged;
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    await clock.advance(100);
    workers.wakeOnRuntimeChange('a');
    await clock.advance(100);
    expect(syncer.calls).toEqual(['sync-create:a@0']);
    // A PLEG wake together with another request syncs; so does one the syncer has not seen yet.
    workers.wakeOnRuntimeChange('a');
    workers.wake('a');
    await clock.advance(100);
    unchanged = false;
    workers.wakeOnRuntimeChange('a');
    await clock.advance(100);
    expect(syncer.calls).toEqual(['sync-create:a@0', 'sync-sync:a@200', 'sync-sync:a@300']);
  });

  it('decides on a PLEG wake that arrives during a sync only once that sync is over', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 50);
    const asked: number[] = [];
    syncer.runtimeUnchanged = () => (asked.push(clock.monotonic()), true);
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    await clock.advance(10);
    workers.wakeOnRuntimeChange('a');
    await clock.advance(100);
    expect(asked).toEqual([50]);
    expect(syncer.calls).toEqual(['sync-create:a@0']);
  });

  it('moves a terminal pod through terminating and terminated, and finalizes it once deleted', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 0);
    syncer.outcome = () => ({ terminal: true });
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    await clock.advance(10);
    expect(workers.state('a')).toBe('finished');
    expect(syncer.calls).toEqual(['sync-create:a@0', 'terminating:a@0', 'terminated:a@0']);
    workers.updatePod(pod('a', true));
    await clock.advance(10);
    expect(syncer.calls.at(-1)).toBe('finalize:a@10');
    workers.forgetWhenDone('a');
    await clock.advance(10);
    expect(workers.state('a')).toBeUndefined();
  });

  it('terminates a running pod as soon as it is marked for deletion', async () => {
    const clock = new VirtualClock();
    const syncer = new RecordingSyncer(clock, 50);
    const workers = new PodWorkers({ clock, syncer, resyncIntervalMs: 60_000 });
    workers.updatePod(pod('a'));
    await clock.advance(10);
    workers.updatePod(pod('a', true));
    await clock.advance(1_000);
    expect(syncer.calls).toEqual(['sync-create:a@0', 'terminating:a@50', 'terminated:a@100', 'finalize:a@150']);
  });
});
