import { describe, expect, it } from 'vitest';
import { excessLogs, filterUnusedLogs, rotationTimestamp } from './rotation.js';

describe('log rotation decisions', () => {
  it('names rotated files with the Go layout 20060102-150405 in UTC', () => {
    expect(rotationTimestamp(Date.UTC(2026, 0, 2, 3, 4, 5, 999))).toBe('20260102-030405');
    expect(rotationTimestamp(Date.UTC(2026, 10, 27, 23, 59, 59))).toBe('20261127-235959');
  });

  it('treats temporary files and plain files that already have a compressed copy as leftovers', () => {
    expect(filterUnusedLogs(['0.log.a', '0.log.a.gz', '0.log.b', '0.log.c.tmp', '0.log.d.gz'])).toEqual({
      inUse: ['0.log.a.gz', '0.log.b', '0.log.d.gz'],
      unused: ['0.log.a', '0.log.c.tmp'],
    });
  });

  it('keeps at most maxFiles − 2 rotated files before a rotation, removing the oldest first', () => {
    const logs = ['0.log.20260101-000030', '0.log.20260101-000010.gz', '0.log.20260101-000020.gz'];
    expect(excessLogs(logs, 3)).toEqual({ remove: ['0.log.20260101-000010.gz', '0.log.20260101-000020.gz'], keep: ['0.log.20260101-000030'] });
    expect(excessLogs(logs, 5)).toEqual({ remove: [], keep: ['0.log.20260101-000010.gz', '0.log.20260101-000020.gz', '0.log.20260101-000030'] });
    expect(excessLogs(logs, 2)).toEqual({ remove: [...logs].sort(), keep: [] });
  });
});
