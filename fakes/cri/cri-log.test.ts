import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { CriLogWriter, parseCriLogLine } from './cri-log.js';
import { rfc3339Nano } from './time.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fake-cri-log-'));
  dirs.push(d);
  return d;
}

describe('CRI log files', () => {
  it('formats timestamps like Go RFC3339Nano', () => {
    expect(rfc3339Nano(1_767_225_600_000_000_000n)).toBe('2026-01-01T00:00:00Z');
    expect(rfc3339Nano(1_767_225_600_120_000_000n)).toBe('2026-01-01T00:00:00.12Z');
    expect(rfc3339Nano(1_767_225_600_000_000_001n)).toBe('2026-01-01T00:00:00.000000001Z');
  });

  it('writes full lines, splits long lines into partial entries and flushes the rest at exit', () => {
    const path = join(tmp(), 'pod', 'c', '0.log');
    const w = new CriLogWriter(path, new VirtualClock(), 8);
    w.open();
    w.write('stdout', 'hello\nwor');
    w.write('stderr', 'oops\n');
    w.write('stdout', 'ld\n0123456789abc\n');
    w.write('stdout', 'no newline');
    w.close();
    const lines = fs.readFileSync(path, 'utf8').trimEnd().split('\n').map(parseCriLogLine);
    expect(lines.map((l) => [l?.stream, l?.tag, l?.message])).toEqual([
      ['stdout', 'F', 'hello'],
      ['stderr', 'F', 'oops'],
      ['stdout', 'F', 'world'],
      ['stdout', 'P', '01234567'],
      ['stdout', 'F', '89abc'],
      ['stdout', 'P', 'no newli'],
      ['stdout', 'F', 'ne'],
    ]);
    expect(lines[0]?.time).toBe('2026-01-01T00:00:00Z');
  });

  it('keeps writing to a rotated file until reopened, then writes to a new file at the path', () => {
    const dir = tmp();
    const path = join(dir, '0.log');
    const w = new CriLogWriter(path, new VirtualClock());
    w.open();
    w.write('stdout', 'one\n');
    fs.renameSync(path, `${path}.1`);
    w.write('stdout', 'two\n');
    w.reopen();
    w.write('stdout', 'three\n');
    w.close();
    expect(fs.readFileSync(`${path}.1`, 'utf8')).toMatch(/one\n.*two\n$/s);
    expect(fs.readFileSync(path, 'utf8')).toMatch(/^\S+ stdout F three\n$/);
  });

  it('appends to an existing file, and reports a path it cannot open', () => {
    const dir = tmp();
    fs.writeFileSync(join(dir, '0.log'), 'before\n');
    const w = new CriLogWriter(join(dir, '0.log'), new VirtualClock());
    w.open();
    w.write('stdout', 'after\n');
    w.close();
    expect(fs.readFileSync(join(dir, '0.log'), 'utf8')).toMatch(/^before\n\S+ stdout F after\n$/);

    fs.mkdirSync(join(dir, 'is-a-dir.log'));
    expect(() => new CriLogWriter(join(dir, 'is-a-dir.log'), new VirtualClock()).open()).toThrow(/EISDIR/);
    fs.writeFileSync(join(dir, 'file'), '');
    expect(() => new CriLogWriter(join(dir, 'file', '0.log'), new VirtualClock()).open()).toThrow(/ENOTDIR|EEXIST/);
  });
});
