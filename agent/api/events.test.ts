import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder, podRef } from './events.js';

const pod = { metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [] } };

describe('MemoryEventRecorder', () => {
  it('keeps every event up to its limit, in order', () => {
    const r = new MemoryEventRecorder(10);
    for (let i = 0; i < 10; i++) r.event(podRef(pod), 'Normal', 'Started', `m${i}`);
    expect(r.events.map((e) => e.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
  });

  it('drops the oldest once past its limit and a tenth, keeping the newest', () => {
    const r = new MemoryEventRecorder(10);
    for (let i = 0; i < 12; i++) r.event(podRef(pod), 'Normal', 'Started', `m${i}`);
    expect(r.events.map((e) => e.message)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 2}`));
    for (let i = 12; i < 1_000; i++) r.event(podRef(pod), 'Normal', 'Started', `m${i}`);
    expect(r.events.length).toBeLessThanOrEqual(11);
    expect(r.events.at(-1)?.message).toBe('m999');
  });

  it('tells its subscribers of every event, kept or not', () => {
    const r = new MemoryEventRecorder(1);
    const seen: string[] = [];
    r.subscribe((e) => seen.push(e.message));
    for (let i = 0; i < 5; i++) r.event(podRef(pod), 'Warning', 'BackOff', `m${i}`);
    expect(seen).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  });
});
