import { linkSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diskUsage, measurePodDiskUsage, measurePodsDiskUsage } from './pod-disk-usage.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'disk-usage-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const blocks = (...paths: string[]): bigint => paths.reduce((sum, p) => sum + BigInt(lstatSync(p).blocks) * 512n, 0n);

describe('disk usage of a directory tree, as du measures it', () => {
  it('sums allocated blocks of the directory, its subdirectories and files, and counts their inodes', async () => {
    const root = join(dir, 'vol');
    mkdirSync(join(root, 'sub'), { recursive: true });
    writeFileSync(join(root, 'a'), 'x'.repeat(10_000));
    writeFileSync(join(root, 'sub', 'b'), 'hello');
    const got = await diskUsage(root);
    expect(got).toEqual({ usedBytes: blocks(root, join(root, 'sub'), join(root, 'a'), join(root, 'sub', 'b')), inodesUsed: 4n });
    // 10 000 bytes take at least three 4 KiB blocks on any filesystem here.
    expect(got!.usedBytes).toBeGreaterThanOrEqual(10_000n);
  });

  it('counts a hard-linked file once and does not follow symbolic links', async () => {
    const root = join(dir, 'vol');
    mkdirSync(root);
    writeFileSync(join(root, 'a'), 'x'.repeat(8192));
    linkSync(join(root, 'a'), join(root, 'b'));
    const outside = join(dir, 'outside');
    writeFileSync(outside, 'y'.repeat(100_000));
    symlinkSync(outside, join(root, 'link'));
    const got = await diskUsage(root);
    expect(got).toEqual({ usedBytes: blocks(root, join(root, 'a'), join(root, 'link')), inodesUsed: 3n });
  });

  it('reports nothing for a path that does not exist', async () => {
    expect(await diskUsage(join(dir, 'missing'))).toBeNull();
  });
});

describe('measuring a pod on disk', () => {
  it('measures its emptyDir and configMap directories and each container log directory, skipping what does not exist', async () => {
    const rootDir = join(dir, 'root');
    const podLogsDir = join(dir, 'logs');
    const emptyDir = join(rootDir, 'pods', 'u1', 'volumes', 'kubernetes.io~empty-dir', 'data');
    mkdirSync(emptyDir, { recursive: true });
    writeFileSync(join(emptyDir, 'f'), 'z'.repeat(20_000));
    const appLogs = join(podLogsDir, 'default_web_u1', 'app');
    mkdirSync(appLogs, { recursive: true });
    writeFileSync(join(appLogs, '0.log'), 'log line\n');
    writeFileSync(join(appLogs, '1.log'), 'log line\n');
    const pod = {
      metadata: { name: 'web', namespace: 'default', uid: 'u1' },
      spec: {
        volumes: [{ name: 'data', emptyDir: { sizeLimit: '8Ki' } }, { name: 'cfg', configMap: { name: 'c' } }, { name: 'host', hostPath: { path: '/tmp' } }],
        containers: [{ name: 'app' }, { name: 'never-ran' }],
      },
    };
    const got = await measurePodDiskUsage(pod, { rootDir, podLogsDir });
    expect(got.volumes).toEqual([{ name: 'data', usedBytes: blocks(emptyDir, join(emptyDir, 'f')), inodesUsed: 2n }]);
    expect([...got.containerLogs.keys()]).toEqual(['app']);
    expect(got.containerLogs.get('app')).toEqual({ usedBytes: blocks(appLogs, join(appLogs, '0.log'), join(appLogs, '1.log')), inodesUsed: 3n });
    const all = await measurePodsDiskUsage([pod, { metadata: { name: 'other', namespace: 'default', uid: 'u2' }, spec: { containers: [{ name: 'app' }] } }], { rootDir, podLogsDir });
    expect([...all.keys()]).toEqual(['u1', 'u2']);
    expect(all.get('u2')).toEqual({ volumes: [], containerLogs: new Map() });
  });
});
