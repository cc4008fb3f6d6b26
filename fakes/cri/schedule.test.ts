import { describe, expect, it } from 'vitest';
import { nextChangeAt, parseBytes, parseDuration, parseHttpSchedules, parseSchedule, valueAt } from './schedule.js';

describe('schedules of values over time', () => {
  it('parses Go-style durations and rejects anything else naming the field', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('2')).toBe(2_000);
    expect(() => parseDuration('3 days', 'FAKE_EXIT_AFTER')).toThrow(/FAKE_EXIT_AFTER: "3 days" is not a duration/);
  });

  it('parses byte quantities with binary and decimal suffixes', () => {
    expect(parseBytes('64Ki')).toBe(65_536);
    expect(parseBytes('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseBytes('100M')).toBe(100_000_000);
    expect(() => parseBytes('10 MB', 'FAKE_MEMORY_SCHEDULE')).toThrow(/FAKE_MEMORY_SCHEDULE/);
  });

  it('gives the value in force at each instant and when it next changes', () => {
    const s = parseSchedule('200 for 30s then 500 for 1m then 200', Number);
    expect(valueAt(s, 0)).toBe(200);
    expect(valueAt(s, 29_999)).toBe(200);
    expect(valueAt(s, 30_000)).toBe(500);
    expect(valueAt(s, 90_000)).toBe(200);
    expect(nextChangeAt(s, 0)).toBe(30_000);
    expect(nextChangeAt(s, 30_000)).toBe(90_000);
    expect(nextChangeAt(s, 90_000)).toBeNull();
  });

  it('requires a duration on every phase but the last', () => {
    expect(() => parseSchedule('200 then 500', Number)).toThrow(/needs "for <duration>"/);
  });

  it('parses per-path HTTP schedules with a default path', () => {
    const m = parseHttpSchedules('/healthz=200 for 30s then 500; *=404');
    expect(valueAt(m.get('/healthz')!, 31_000)).toBe(500);
    expect(valueAt(m.get('*')!, 0)).toBe(404);
    expect(() => parseHttpSchedules('/x=700')).toThrow(/not an HTTP status/);
  });
});
