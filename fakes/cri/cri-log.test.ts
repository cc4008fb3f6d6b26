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

  it('creates the file in the background before the start, and the start writes to it', async () => {
    const path = join(tmp(), 'pod', 'c', '0.log');
    const w = new CriLogWriter(path, new VirtualClock());
    await w.prepare();
    expect(fs.readFileSync(path, 'utf8')).toBe('');
    w.open();
    w.write('stdout', 'hi\n');
    w.close();
    expect(fs.readFileSync(path, 'utf8')).toMatch(/^\S+ stdout F hi\n$/);
  });

  it('opens at once when the start comes before the background create finished, and keeps one file', async () => {
    const path = join(tmp(), '0.log');
    const w = new CriLogWriter(path, new VirtualClock());
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    const settled = w.prepare();
    w.open();
    w.write('stdout', 'early\n');
    await settled;
    w.write('stdout', 'late\n');
    w.close();
    expect(fs.readFileSync(path, 'utf8')).toMatch(/^\S+ stdout F early\n\S+ stdout F late\n$/);
    // The descriptor the background create opened was closed when it landed.
    expect(fs.readdirSync('/proc/self/fd').length).toBe(fdsBefore);
  });

  it('removes the file the writer of a container that never started created, but not one that was there before', async () => {
    const dir = tmp();
    const created = new CriLogWriter(join(dir, 'new.log'), new VirtualClock());
    await created.prepare();
    await created.discard();
    expect(fs.existsSync(join(dir, 'new.log'))).toBe(false);

    const stillPending = new CriLogWriter(join(dir, 'pending.log'), new VirtualClock());
    const settled = stillPending.prepare();
    stillPending.close(); // a runtime reset before the create landed
    await settled;
    expect(fs.existsSync(join(dir, 'pending.log'))).toBe(false);

    fs.writeFileSync(join(dir, 'old.log'), 'kept\n');
    const existing = new CriLogWriter(join(dir, 'old.log'), new VirtualClock());
    await existing.prepare();
    await existing.discard();
    expect(fs.readFileSync(join(dir, 'old.log'), 'utf8')).toBe('kept\n');
  });

  it('does not remove a file that a newer writer took over in the meantime', async () => {
    const path = join(tmp(), '0.log');
    const first = new CriLogWriter(path, new VirtualClock());
    const firstSettled = first.prepare();
    const removed = first.discard();
    const second = new CriLogWriter(path, new VirtualClock());
    second.open();
    await Promise.all([firstSettled, removed]);
    second.write('stdout', 'mine\n');
    second.close();
    expect(fs.readFileSync(path, 'utf8')).toMatch(/stdout F mine\n$/);
  });

  it('reports a path it cannot create when the start opens it, with the error of that moment', async () => {
    const dir = tmp();
    fs.mkdirSync(join(dir, 'is-a-dir.log'));
    const w = new CriLogWriter(join(dir, 'is-a-dir.log'), new VirtualClock());
    await w.prepare();
    expect(() => w.open()).toThrow(/EISDIR/);

    fs.writeFileSync(join(dir, 'file'), '');
    const under = new CriLogWriter(join(dir, 'file', '0.log'), new VirtualClock());
    await under.prepare();
    expect(() => under.open()).toThrow(/ENOTDIR|EEXIST/);
  });
});
