import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import { STATUS_WRITERS, StatusManager, type PodStatusWriter } from './status-manager.js';

function pod(uid: string): V1Pod {
  return { metadata: { uid, name: uid, namespace: 'default' }, spec: { containers: [{ name: 'c' }] } };
}

/** A writer whose every patch takes `ms` of virtual time; records what each write carried. */
class SlowWriter implements PodStatusWriter {
  readonly writes: Array<{ name: string; phase: unknown }> = [];
  constructor(private readonly clock: VirtualClock, private readonly ms: number) {}
  async patchStatus(_ns: string, name: string, _uid: string, status: Record<string, unknown>): Promise<boolean> {
    await this.clock.sleep(this.ms);
    this.writes.push({ name, phase: status['phase'] });
    return true;
  }
  async deletePod(): Promise<void> {}
}

describe('StatusManager', () => {
  it('writes a lone pod status at once, and a later change after the first write', async () => {
    const clock = new VirtualClock();
    const writer = new SlowWriter(clock, 10);
    const m = new StatusManager(writer, clock);
    m.setPodStatus(pod('a'), { phase: 'Pending' });
    m.setPodStatus(pod('a'), { phase: 'Running' });
    await clock.advance(10);
    expect(writer.writes).toEqual([{ name: 'a', phase: 'Pending' }]);
    await clock.advance(10);
    expect(writer.writes).toEqual([{ name: 'a', phase: 'Pending' }, { name: 'a', phase: 'Running' }]);
    expect(m.settled()).toBe(true);
  });

  it('writes at most STATUS_WRITERS statuses at once, and a queued pod only its latest status', async () => {
    const clock = new VirtualClock();
    const writer = new SlowWriter(clock, 10);
    const m = new StatusManager(writer, clock);
    const n = STATUS_WRITERS + 3;
    for (let i = 0; i < n; i++) m.setPodStatus(pod(`p${i}`), { phase: 'Pending' });
    // The pods still waiting for a writer change again before their turn: one write each.
    for (let i = STATUS_WRITERS; i < n; i++) m.setPodStatus(pod(`p${i}`), { phase: 'Running' });
    await clock.advance(10);
    expect(writer.writes).toHaveLength(STATUS_WRITERS);
    await clock.advance(10);
    expect(writer.writes.slice(STATUS_WRITERS)).toEqual(
      Array.from({ length: n - STATUS_WRITERS }, (_, k) => ({ name: `p${STATUS_WRITERS + k}`, phase: 'Running' })),
    );
    expect(m.settled()).toBe(true);
  });
});
