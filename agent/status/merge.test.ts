import { describe, expect, it } from 'vitest';
import { pod } from '../kuberuntime/test-fixtures.js';
import { illegalContainerTransition, mergeForUpdate, sameStatus, statusToJson, toApiTime } from './merge.js';

describe('mergeForUpdate', () => {
  it('keeps a condition transition time while its status is unchanged and stamps a new one on change', () => {
    const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
    const first = mergeForUpdate(undefined, { conditions: [{ type: 'Ready', status: 'False' }, { type: 'example.com/x', status: 'True' }] }, t0);
    expect(first.conditions?.[0]?.lastTransitionTime).toEqual(new Date(t0));
    expect(first.conditions?.[1]?.lastTransitionTime).toBeUndefined();
    expect(first.startTime).toEqual(new Date(t0));
    const same = mergeForUpdate(first, { conditions: [{ type: 'Ready', status: 'False' }] }, t0 + 5000);
    expect(same.conditions?.[0]?.lastTransitionTime).toEqual(new Date(t0));
    expect(same.startTime).toEqual(new Date(t0));
    const flipped = mergeForUpdate(same, { conditions: [{ type: 'Ready', status: 'True' }] }, t0 + 9000);
    expect(flipped.conditions?.[0]?.lastTransitionTime).toEqual(new Date(t0 + 9000));
  });
});

describe('illegalContainerTransition', () => {
  it('flags a terminated container of a Never pod reported running again', () => {
    const p = pod({ restartPolicy: 'Never' });
    const old = { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1 } } }] };
    const next = { containerStatuses: [{ name: 'app', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };
    expect(illegalContainerTransition(p, old, next)).toBe('app');
    expect(illegalContainerTransition(pod({ restartPolicy: 'Always' }), old, next)).toBeUndefined();
  });
});

describe('statusToJson', () => {
  it('renders times with second precision and compares statuses by content', () => {
    const s = { startTime: new Date(Date.UTC(2026, 0, 1, 1, 2, 3, 456)), phase: 'Running' };
    expect(statusToJson(s)).toEqual({ startTime: '2026-01-01T01:02:03Z', phase: 'Running' });
    expect(sameStatus(s, { phase: 'Running', startTime: new Date(Date.UTC(2026, 0, 1, 1, 2, 3, 999)) })).toBe(true);
    expect(sameStatus(s, { phase: 'Pending', startTime: s.startTime })).toBe(false);
  });
});

describe('toApiTime', () => {
  it('formats whole seconds from dates, strings and numbers, the same second repeatedly and then others', () => {
    const t = Date.UTC(2026, 10, 27, 17, 5, 9, 999);
    expect(toApiTime(new Date(t))).toBe('2026-11-27T17:05:09Z');
    expect(toApiTime(t - 999)).toBe('2026-11-27T17:05:09Z');
    expect(toApiTime('2026-11-27T17:05:09.5Z')).toBe('2026-11-27T17:05:09Z');
    expect(toApiTime(t + 1)).toBe('2026-11-27T17:05:10Z');
    expect(toApiTime(t)).toBe('2026-11-27T17:05:09Z');
    expect(toApiTime(-1500)).toBe('1969-12-31T23:59:58Z');
  });

  it('throws on an invalid time, as Date#toISOString does', () => {
    expect(() => toApiTime('not a time')).toThrow(RangeError);
    expect(() => toApiTime(Number.NaN)).toThrow(RangeError);
  });
});
