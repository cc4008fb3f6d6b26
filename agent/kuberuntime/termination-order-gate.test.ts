import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import { container, pod } from './test-fixtures.js';
import { TerminationOrderGate } from './termination-order-gate.js';

const p = pod({
  initContainers: [container('s1', { restartPolicy: 'Always' }), container('s2', { restartPolicy: 'Always' })],
  containers: [container('app')],
});

/** Records when a waitForTurn promise settled (monotonic ms) and what it returned. */
function track(clock: VirtualClock, waiting: Promise<number>): { settledAt?: number; waited?: number } {
  const out: { settledAt?: number; waited?: number } = {};
  void waiting.then((w) => {
    out.settledAt = clock.monotonic();
    out.waited = w;
  });
  return out;
}

describe('TerminationOrderGate', () => {
  it('lets a sidecar go once the regular containers and the later sidecar have terminated, reporting the time waited', async () => {
    const clock = new VirtualClock();
    const gate = new TerminationOrderGate(p, ['s1', 's2', 'app'], clock);
    const app = track(clock, gate.waitForTurn('app', 30));
    const s2 = track(clock, gate.waitForTurn('s2', 30));
    const s1 = track(clock, gate.waitForTurn('s1', 30));
    await clock.advance(0);
    expect(app).toEqual({ settledAt: 0, waited: 0 });
    expect(s2.settledAt).toBeUndefined();

    await clock.advance(3_500);
    gate.containerTerminated('app');
    await clock.advance(0);
    expect(s2).toEqual({ settledAt: 3_500, waited: 3.5 });
    expect(s1.settledAt).toBeUndefined();

    await clock.advance(1_000);
    gate.containerTerminated('s2');
    await clock.advance(0);
    expect(s1).toEqual({ settledAt: 4_500, waited: 4.5 });
    expect(clock.pendingTimers()).toBe(0);
  });

  it('stops waiting when the grace period runs out first', async () => {
    const clock = new VirtualClock();
    const gate = new TerminationOrderGate(p, ['s1', 's2', 'app'], clock);
    const s2 = track(clock, gate.waitForTurn('s2', 5));
    await clock.advance(4_999);
    expect(s2.settledAt).toBeUndefined();
    await clock.advance(1);
    expect(s2).toEqual({ settledAt: 5_000, waited: 5 });
  });

  it('keeps waiting on a container whose stop failed (never reported terminated) until the grace timer', async () => {
    const clock = new VirtualClock();
    const gate = new TerminationOrderGate(p, ['s1', 's2', 'app'], clock);
    // app's StopContainer failed: nothing calls containerTerminated('app').
    const s2 = track(clock, gate.waitForTurn('s2', 10));
    await clock.advance(9_000);
    expect(s2.settledAt).toBeUndefined();
    await clock.advance(1_000);
    expect(s2.waited).toBe(10);
  });

  it('does not wait at all without grace left, or for a container that waits for nothing', async () => {
    const clock = new VirtualClock();
    const gate = new TerminationOrderGate(p, ['s1', 's2', 'app'], clock);
    await expect(gate.waitForTurn('s1', 0)).resolves.toBe(0);
    await expect(gate.waitForTurn('app', 30)).resolves.toBe(0);
    await expect(gate.waitForTurn('not-in-the-pod', 30)).resolves.toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('does not wait for a sidecar that was not running when the kill began', async () => {
    const clock = new VirtualClock();
    const gate = new TerminationOrderGate(p, ['s1', 'app'], clock);
    const s1 = track(clock, gate.waitForTurn('s1', 30));
    await clock.advance(2_000);
    gate.containerTerminated('app');
    await clock.advance(0);
    expect(s1).toEqual({ settledAt: 2_000, waited: 2 });
  });
});
