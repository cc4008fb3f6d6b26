import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containerLogsDirectory, restartCountFromLogDir, restartCountFromLogNames } from './restart-count.js';

const file = (name: string) => ({ name, isDirectory: false });

describe('restartCountFromLogNames', () => {
  it('is 0 for an empty or missing log directory', () => {
    expect(restartCountFromLogNames([])).toBe(0);
  });

  it('continues after the highest restart count named by a log file', () => {
    expect(restartCountFromLogNames([file('0.log'), file('3.log'), file('1.log')])).toBe(4);
  });

  it('counts rotated and compressed logs of a restart', () => {
    expect(restartCountFromLogNames([file('2.log'), file('5.log.20260101-101010'), file('4.log.20260101-101010.gz')])).toBe(6);
  });

  it('ignores directories, other files and numbers too large to be restart counts', () => {
    expect(
      restartCountFromLogNames([
        { name: '9.log', isDirectory: true },
        file('app.log'),
        file('x1.log'),
        file('99999999999999999999.log'),
        file('1.log'),
      ]),
    ).toBe(2);
  });
});

describe('restartCountFromLogDir', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the container log directory under <podLogsDir>/<namespace>_<name>_<uid>/<container>', async () => {
    dir = mkdtempSync(join(tmpdir(), 'restart-count-'));
    const logs = containerLogsDirectory(dir, 'default', 'web', 'uid-1', 'app');
    expect(logs).toBe(join(dir, 'default_web_uid-1', 'app'));
    expect(await restartCountFromLogDir(logs)).toBe(0);
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, '0.log'), '');
    writeFileSync(join(logs, '1.log'), '');
    expect(await restartCountFromLogDir(logs)).toBe(2);
  });
});
