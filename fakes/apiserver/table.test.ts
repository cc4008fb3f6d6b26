import { describe, expect, it } from 'vitest';
import { humanDuration, wantsTable } from './table.js';

describe('server-side printing', () => {
  it('formats ages as kubectl does', () => {
    const s = 1000;
    expect([0, 5 * s, 119 * s, 150 * s, 600 * s, 179 * 60 * s, 3 * 3600 * s + 5 * 60 * s, 30 * 3600 * s, 50 * 3600 * s, 400 * 86400 * s, 800 * 86400 * s, 9 * 365 * 86400 * s].map(humanDuration)).toEqual([
      '0s', '5s', '119s', '2m30s', '10m', '179m', '3h5m', '30h', '2d2h', '400d', '2y70d', '9y',
    ]);
  });

  it('recognises the Accept header kubectl sends for tables', () => {
    expect(wantsTable('application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json')).toBe(true);
    expect(wantsTable('application/json, */*')).toBe(false);
    expect(wantsTable(null)).toBe(false);
  });
});
