import { describe, expect, it } from 'vitest';
import { formatGoDuration, parseGoDuration } from './duration.js';

describe('Go durations', () => {
  it.each([
    ['1m30s', 90_000],
    ['300ms', 300],
    ['1.5h', 5_400_000],
    ['-2s', -2000],
    ['+5s', 5000],
    ['0', 0],
    ['1h2m3s4ms', 3_723_004],
    ['1500us', 1.5],
    ['1500µs', 1.5],
    ['250ns', 0.00025],
    ['.5s', 500],
    ['5.s', 5000],
  ])('parses %s as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each([
    ['', 'time: invalid duration ""'],
    ['1', 'time: missing unit in duration "1"'],
    ['1d', 'time: unknown unit "d" in duration "1d"'],
    ['s', 'time: invalid duration "s"'],
    ['1m 30s', 'time: unknown unit "m " in duration "1m 30s"'],
    ['.s', 'time: invalid duration ".s"'],
  ])('rejects %j with Go\'s message', (text, message) => {
    expect(() => parseGoDuration(text)).toThrow(message);
  });

  it.each([
    [60_000, '1m0s'],
    [10_000, '10s'],
    [300_000, '5m0s'],
    [14_400_000, '4h0m0s'],
    [100, '100ms'],
    [1.5, '1.5ms'],
    [0.0005, '500ns'],
    [0, '0s'],
    [90_500, '1m30.5s'],
    [-2000, '-2s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });
});
