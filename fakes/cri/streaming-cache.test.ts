import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { Code, CriError } from './errors.js';
import { StreamTokenCache } from './streaming-cache.js';

describe('the streaming token cache', () => {
  it('hands out unguessable tokens that work once', () => {
    const cache = new StreamTokenCache<string>(new VirtualClock());
    const a = cache.insert('a');
    const b = cache.insert('b');
    expect(a).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(a).not.toBe(b);
    expect(cache.consume(a)).toBe('a');
    expect(cache.consume(a)).toBeUndefined();
    expect(cache.consume('unknown')).toBeUndefined();
    expect(cache.consume(b)).toBe('b');
  });

  it('lets a token expire after a minute of clock time', async () => {
    const clock = new VirtualClock();
    const cache = new StreamTokenCache<string>(clock);
    const early = cache.insert('early');
    const late = cache.insert('late');
    await clock.advance(59_999);
    expect(cache.consume(early)).toBe('early');
    await clock.advance(1);
    expect(cache.consume(late)).toBeUndefined();
  });

  it('refuses more than its in-flight limit with RESOURCE_EXHAUSTED until tokens expire', async () => {
    const clock = new VirtualClock();
    const cache = new StreamTokenCache<number>(clock, 1_000, 3);
    for (let i = 0; i < 3; i++) cache.insert(i);
    let caught: unknown;
    try {
      cache.insert(3);
    } catch (err) {
      caught = err;
    }
    expect(caught).toEqual(new CriError(Code.RESOURCE_EXHAUSTED, 'maximum number of in-flight requests exceeded'));
    await clock.advance(1_000);
    expect(() => cache.insert(4)).not.toThrow();
    expect(cache.size).toBe(1);
  });
});
