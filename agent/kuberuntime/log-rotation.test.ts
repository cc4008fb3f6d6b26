import { describe, expect, it } from 'vitest';
import { planRotation, rotatedName } from './log-rotation.js';

describe('planRotation', () => {
  it('keeps maxFiles-2 rotated files, compresses all but the newest and drops temporary files', () => {
    const log = '/var/log/pods/ns_p_u/app/0.log';
    const siblings = [
      '/var/log/pods/ns_p_u/app/0.log',
      `${log}.20260101-000001.gz`,
      `${log}.20260101-000002.gz`,
      `${log}.20260101-000003`,
      `${log}.20260101-000004`,
      `${log}.20260101-000004.tmp`,
    ];
    expect(planRotation(log, siblings, 5)).toEqual({
      remove: [`${log}.20260101-000004.tmp`, `${log}.20260101-000001.gz`],
      compress: [`${log}.20260101-000003`],
    });
    expect(planRotation(log, siblings, 2).remove).toContain(`${log}.20260101-000004`);
  });

  it('names a rotated log after the UTC second it was rotated', () => {
    expect(rotatedName('/l/0.log', Date.UTC(2026, 10, 27, 7, 5, 9))).toBe('/l/0.log.20261127-070509');
  });
});
