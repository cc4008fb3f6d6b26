import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { untilSignal } from './until-signal.js';

describe('running until a signal', () => {
  it('closes once on SIGTERM, resolves after the close, and lets a second signal through', async () => {
    const target = new EventEmitter();
    let closes = 0;
    let closed = false;
    const running = untilSignal(async () => {
      closes++;
      await new Promise((r) => setTimeout(r, 10));
      closed = true;
    }, target);
    expect(target.listenerCount('SIGINT')).toBe(1);
    target.emit('SIGTERM');
    target.emit('SIGINT');
    await running;
    expect(closed).toBe(true);
    expect(closes).toBe(1);
    expect(target.listenerCount('SIGINT') + target.listenerCount('SIGTERM')).toBe(0);
  });

  it('resolves on SIGINT even when closing fails', async () => {
    const target = new EventEmitter();
    const running = untilSignal(() => Promise.reject(new Error('socket busy')), target);
    target.emit('SIGINT');
    await expect(running).resolves.toBeUndefined();
  });
});
