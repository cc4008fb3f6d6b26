import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netnsPathsFromMetadata, removeCachedCniResults, sandboxIdsFromLog } from '../containerd/force-cleanup.js';
import { parseLdd } from '../images/busybox.js';
import { portmapRemovalScript, natChains } from './iptables.js';
import { isBelow, parseMountPoints } from './mounts.js';
import { parseStat } from './proc.js';

describe('host parsers', () => {
  it('read pid, ppid and start time from /proc stat even when the name has spaces and parentheses', () => {
    const stat = '4242 (my (odd) name) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 1000 100';
    expect(parseStat(stat)).toEqual({ pid: 4242, comm: 'my (odd) name', ppid: 17, startTime: '98765' });
    expect(() => parseStat('garbage')).toThrow(/malformed/);
  });

  it('unescape mount points from mountinfo', () => {
    const info = '36 35 98:0 /mnt1 /tmp/with\\040space rw - ext3 /dev/root rw\n37 35 0:3 / /proc rw - proc proc rw\n';
    expect(parseMountPoints(info)).toEqual(['/tmp/with space', '/proc']);
    expect(isBelow('/tmp/a/b', '/tmp/a')).toBe(true);
    expect(isBelow('/tmp/ab', '/tmp/a')).toBe(false);
  });

  it('list the libraries ldd names, without the vdso', () => {
    const out = '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibresolv.so.2 => /lib/x86_64-linux-gnu/libresolv.so.2 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n';
    expect(parseLdd(out)).toEqual(['/lib/x86_64-linux-gnu/libresolv.so.2', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
    expect(() => parseLdd('\tlibfoo.so => not found\n')).toThrow(/missing library/);
  });

  const save = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':CNI-HOSTPORT-DNAT - [0:0]',
    ':CNI-HOSTPORT-MASQ - [0:0]',
    '-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
    '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
    '-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE',
    'COMMIT',
  ].join('\n');

  it('remove idle portmap chains with the jumps into them', () => {
    expect(natChains(save)).toEqual(['PREROUTING', 'OUTPUT', 'POSTROUTING', 'CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ']);
    expect(portmapRemovalScript(save, ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-MASQ'])).toBe(
      [
        '*nat',
        '-D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT',
        '-D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
        '-F CNI-HOSTPORT-DNAT',
        '-F CNI-HOSTPORT-MASQ',
        '-X CNI-HOSTPORT-DNAT',
        '-X CNI-HOSTPORT-MASQ',
        'COMMIT',
        '',
      ].join('\n'),
    );
  });

  it('keep the portmap chains while a sandbox still has a port mapping', () => {
    const active = save.replace('COMMIT', '-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name" -j CNI-DN-abc\nCOMMIT');
    expect(portmapRemovalScript(active, ['CNI-HOSTPORT-DNAT'])).toBeUndefined();
    expect(portmapRemovalScript(save, [])).toBeUndefined();
  });

  const idA = 'a'.repeat(64);
  const idB = 'b'.repeat(64);

  it('find every sandbox id containerd logged as created', () => {
    const log = [
      `time="t" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:x,} returns sandbox id \\"${idA}\\""`,
      `time="t" level=info msg="StopPodSandbox for \\"${idB}\\""`,
      `time="t" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:y,} returns sandbox id \\"${idA}\\""`,
    ].join('\n');
    expect(sandboxIdsFromLog(log)).toEqual([idA]);
  });

  it('remove only the CNI result cache files of the given sandboxes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-cni-results-test-'));
    try {
      for (const name of [`cni-loopback-${idA}-lo`, `kubelet-harness-x1-${idA}-eth0`, `cni-loopback-${idB}-lo`, 'unrelated']) writeFileSync(join(dir, name), '{}');
      expect(removeCachedCniResults([idA], dir)).toEqual([]);
      expect(readdirSync(dir).sort()).toEqual([`cni-loopback-${idB}-lo`, 'unrelated']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('read the sandboxes\' netns paths from the bytes of containerd\'s metadata database', () => {
    const root = mkdtempSync(join(tmpdir(), 'kubelet-harness-meta-test-'));
    try {
      mkdirSync(join(root, 'io.containerd.metadata.v1.bolt'));
      const json = (path: string): string => JSON.stringify({ Metadata: { ID: 'x', NetNSPath: path } });
      const a = '/var/run/netns/cni-7721b2ac-1bbc-3f68-0927-a7c75a7b19b9';
      const b = '/run/netns/cni-00000000-1111-2222-3333-444444444444';
      writeFileSync(join(root, 'io.containerd.metadata.v1.bolt', 'meta.db'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(json(a)), Buffer.from([255]), Buffer.from(json(b)), Buffer.from(json(a))]));
      expect(netnsPathsFromMetadata(root)).toEqual([a, b]);
      expect(netnsPathsFromMetadata(join(root, 'absent'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true });
    }
  });
});
