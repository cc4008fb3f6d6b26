import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContainerFs } from './fs.js';

describe('ContainerFs', () => {
  it('lets a bind mount over an image file hide it, leaving the host file as it was', () => {
    const dir = mkdtempSync(join(tmpdir(), 'container-fs-'));
    try {
      const host = join(dir, 'etc-hosts');
      writeFileSync(host, '10.0.0.5\tweb\n');
      const fs = new ContainerFs({
        mounts: [{ containerPath: '/etc/hosts', hostPath: host, readonly: false }],
        files: { '/etc/hosts': '127.0.0.1\tlocalhost\n', '/opt/app/conf': 'x' },
      });
      expect(readFileSync(host, 'utf8')).toBe('10.0.0.5\tweb\n');
      expect(fs.readFile('/etc/hosts')).toBe('10.0.0.5\tweb\n');
      expect(fs.readFile('/opt/app/conf')).toBe('x');
      expect(fs.stat('/opt/app')).toBe('dir');
      fs.writeFile('/etc/hosts', 'written\n', true);
      expect(readFileSync(host, 'utf8')).toBe('10.0.0.5\tweb\nwritten\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the image files from a function, called once when the file system is first used', () => {
    let calls = 0;
    const fs = new ContainerFs({ files: () => (calls++, { '/etc/hostname': 'web\n', '/proc/1/cmdline': 'sleep\u0000' }) });
    expect(calls).toBe(0);
    expect(fs.readFile('/etc/hostname')).toBe('web\n');
    expect(fs.list('/proc/1')).toEqual(['cmdline']);
    expect(fs.writableBytes()).toBe(4 + 6);
    expect(calls).toBe(1);
  });
});
