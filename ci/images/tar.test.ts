import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hardLinkGroup, writeTar, type TarEntry } from './tar.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function gnuTarList(archive: Buffer): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-tar-test-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'a.tar'), archive);
  return execFileSync('tar', ['--list', '--verbose', '--numeric-owner', '--full-time', '-f', join(dir, 'a.tar')], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('writeTar', () => {
  const entries: TarEntry[] = [
    { type: 'file', path: 'usr/bin/z', mode: 0o755, content: Buffer.from('zz') },
    { type: 'symlink', path: 'bin/link', target: '/usr/bin/z' },
    ...hardLinkGroup(['bin/sh', 'bin/ash', 'usr/bin/busybox'], 0o755, Buffer.from('#binary')),
    { type: 'dir', path: 'tmp', mode: 0o1777 },
  ];

  it('writes the same bytes whatever the input order', () => {
    expect(writeTar(entries).equals(writeTar([...entries].reverse()))).toBe(true);
  });

  it('is read by GNU tar with sorted names, owner 0/0, epoch timestamps and parents before children', () => {
    const lines = gnuTarList(writeTar(entries));
    const names = lines.map((line) => line.split(/\s+/)[5]);
    expect(names).toEqual(['bin/', 'bin/ash', 'bin/link', 'bin/sh', 'tmp/', 'usr/', 'usr/bin/', 'usr/bin/busybox', 'usr/bin/z']);
    for (const line of lines) {
      expect(line).toMatch(/^\S+ 0\/0 /);
      expect(line).toContain('1970-01-01 00:00:00');
    }
    expect(lines.find((line) => line.includes(' tmp/'))).toMatch(/^drwxrwxrwt/);
    expect(lines.find((line) => line.includes('bin/sh'))).toContain('link to bin/ash');
    // Extractors may chmod the shared inode with the link's header: it must carry the file's mode.
    expect(lines.find((line) => line.includes('bin/sh'))).toMatch(/^hrwxr-xr-x /);
  });

  it('extracts hard links as one inode and symlinks with their target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-tar-test-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.tar'), writeTar(entries));
    execFileSync('mkdir', [join(dir, 'out')]);
    execFileSync('tar', ['-xf', join(dir, 'a.tar'), '-C', join(dir, 'out')]);
    const ash = statSync(join(dir, 'out/bin/ash'));
    expect(statSync(join(dir, 'out/usr/bin/busybox')).ino).toBe(ash.ino);
    expect(ash.nlink).toBe(3);
    expect(readFileSync(join(dir, 'out/bin/sh'), 'utf8')).toBe('#binary');
    expect(readlinkSync(join(dir, 'out/bin/link'))).toBe('/usr/bin/z');
  });

  it('rejects duplicate paths, ".." and a hard link to a later entry', () => {
    expect(() => writeTar([{ type: 'dir', path: 'a', mode: 0o755 }, { type: 'dir', path: 'a/', mode: 0o755 }])).toThrow(/duplicate entry for path "a"/);
    expect(() => writeTar([{ type: 'dir', path: 'a/../b', mode: 0o755 }])).toThrow(/must not contain "\.\."/);
    expect(() =>
      writeTar([
        { type: 'hardlink', path: 'a', target: 'b' },
        { type: 'file', path: 'b', mode: 0o644, content: Buffer.alloc(0) },
      ]),
    ).toThrow(/not an earlier entry/);
  });

  it('splits long names into the ustar prefix and refuses what cannot fit', () => {
    const long = `${'d'.repeat(90)}/${'e'.repeat(90)}`;
    const lines = gnuTarList(writeTar([{ type: 'file', path: long, mode: 0o644, content: Buffer.from('x') }]));
    expect(lines.at(-1)).toContain(long);
    expect(() => writeTar([{ type: 'file', path: 'f'.repeat(120), mode: 0o644, content: Buffer.alloc(0) }])).toThrow(/too long/);
  });
});
