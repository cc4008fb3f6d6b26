import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../agent/clock/virtual-clock.js';
import { MAX_TIMER_MS, ProcessControl, ProcessKilled, processKilled } from './control.js';

describe('ProcessControl', () => {
  it('shares one frozen ProcessKilled per exit status 0-255 and makes others their own', () => {
    const a = new ProcessControl(false);
    const b = new ProcessControl(true);
    a.kill(137);
    b.kill(137);
    expect(a.killed).toBe(b.killed);
    expect(a.killed).toBe(processKilled(137));
    expect(Object.isFrozen(a.killed)).toBe(true);
    expect(a.killed).toMatchObject({ exitCode: 137, name: 'ProcessKilled', message: 'killed (exit status 137)' });
    expect(processKilled(300)).not.toBe(processKilled(300));
    expect(processKilled(300).exitCode).toBe(300);
  });

  it('hands out a signal already aborted with the kill when it is first asked for after the kill', () => {
    const control = new ProcessControl(false);
    control.kill(143);
    expect(control.signal.aborted).toBe(true);
    expect(control.signal.reason).toBe(control.killed);
    expect(control.killed?.exitCode).toBe(143);
  });

  it('aborts a signal asked for before the kill, with the first kill only', () => {
    const control = new ProcessControl(false);
    const signal = control.signal;
    expect(signal.aborted).toBe(false);
    control.kill();
    control.kill(130);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as ProcessKilled).exitCode).toBe(137);
  });

  it('runs each kill hook once, at once when already killed, and not after unsubscribing', () => {
    const control = new ProcessControl(true);
    const calls: string[] = [];
    control.onKill(() => calls.push('a'));
    const stop = control.onKill(() => calls.push('b'));
    stop();
    control.kill();
    control.kill();
    control.onKill(() => calls.push('late'));
    expect(calls).toEqual(['a', 'late']);
  });

  it('sleeps on the clock, and a kill rejects the sleep with the ProcessKilled and cancels its timer', async () => {
    const clock = new VirtualClock();
    const control = new ProcessControl(true);
    let slept = false;
    const sleeping = control.sleep(clock, 1_000).then(() => (slept = true));
    await clock.advance(999);
    expect(slept).toBe(false);
    await clock.advance(1);
    await sleeping;
    expect(slept).toBe(true);

    const killed = control.sleep(clock, 5_000);
    expect(clock.pendingTimers()).toBe(1);
    control.kill(143);
    await expect(killed).rejects.toBe(control.killed);
    expect(clock.pendingTimers()).toBe(0);
    await expect(control.sleep(clock, 10)).rejects.toBeInstanceOf(ProcessKilled);
  });

  it('holds a sleep longer than a Node timer without a timer until the kill', async () => {
    const clock = new VirtualClock();
    const control = new ProcessControl(true);
    let settled = false;
    const forever = control.sleep(clock, MAX_TIMER_MS + 1).finally(() => (settled = true));
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(10);
    expect(settled).toBe(false);
    control.kill();
    await expect(forever).rejects.toBeInstanceOf(ProcessKilled);
  });
});
