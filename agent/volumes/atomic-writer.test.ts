import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/index.js';
import { readProjectedVolume, writeAtomically } from './atomic-writer.js';
import type { Payload } from './projection.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kh-aw-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const payload = (entries: Record<string, string>, mode = 0o644): Payload =>
  new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

describe('atomic writer', () => {
  it('writes a timestamped directory behind ..data and one link per top-level name', () => {
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 10, 27, 6, 44, 0) });
    expect(writeAtomically(dir, payload({ a: '1', 'conf/b': '2' }), clock)).toBe(true);
    const ts = readlinkSync(join(dir, '..data'));
    expect(ts).toMatch(/^\.\.2026_11_27_06_44_00\./);
    expect(readlinkSync(join(dir, 'a'))).toBe('..data/a');
    expect(readlinkSync(join(dir, 'conf'))).toBe('..data/conf');
    expect(readFileSync(join(dir, 'conf', 'b'), 'utf8')).toBe('2');
    expect(statSync(join(dir, ts, 'a')).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir).sort()).toEqual([ts, '..data', 'a', 'conf'].sort());
  });

  it('swaps to a new version, drops names that went away and removes the old version', () => {
    writeAtomically(dir, payload({ a: '1', gone: 'x' }));
    const first = readlinkSync(join(dir, '..data'));
    expect(writeAtomically(dir, payload({ a: '2', c: '3' }, 0o600))).toBe(true);
    const second = readlinkSync(join(dir, '..data'));
    expect(second).not.toBe(first);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('2');
    expect(() => lstatSync(join(dir, 'gone'))).toThrow();
    expect(() => lstatSync(join(dir, first))).toThrow();
    expect([...readProjectedVolume(dir)].map(([k, v]) => [k, v.data.toString(), v.mode])).toEqual([
      ['a', '2', 0o600],
      ['c', '3', 0o600],
    ]);
  });

  it('writes nothing when the payload is unchanged', () => {
    writeAtomically(dir, payload({ a: '1' }));
    const version = readlinkSync(join(dir, '..data'));
    expect(writeAtomically(dir, payload({ a: '1' }))).toBe(false);
    expect(readlinkSync(join(dir, '..data'))).toBe(version);
    // A mode change alone is a change.
    expect(writeAtomically(dir, payload({ a: '1' }, 0o400))).toBe(true);
  });

  it('projects an empty payload as an empty volume', () => {
    writeAtomically(dir, payload({ a: '1' }));
    writeAtomically(dir, new Map());
    expect(readdirSync(dir).filter((n) => !n.startsWith('..'))).toEqual([]);
  });
});
