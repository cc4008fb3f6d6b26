import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCapabilitySets, hasCapability } from './capabilities.js';
import { cniConflist, containerdConfigToml, gatewayOf, registryHostsFiles, type ContainerdPaths } from './config.js';
import { chooseNetwork, overlaps } from './network-choice.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-harness-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const paths: ContainerdPaths = {
  root: '/tmp/kh-x/root',
  state: '/tmp/kh-x/state',
  socket: '/tmp/kh-x/containerd.sock',
  optDir: '/tmp/kh-x/opt',
  cniBinDir: '/tmp/kh-x/cni-bin',
  cniConfDir: '/tmp/kh-x/cni-conf',
  certsDir: '/tmp/kh-x/certs.d',
};

describe('the containerd config', () => {
  it('is read by containerd 1.6 itself with every private path and CRI setting in effect', () => {
    const file = join(dir, 'config.toml');
    writeFileSync(file, containerdConfigToml({ paths, sandboxImage: '127.0.0.1:5000/kubelet-harness/pause:3.10', restrictOomScoreAdj: true }));
    const dump = execFileSync('/usr/bin/containerd', ['--config', file, 'config', 'dump'], { encoding: 'utf8' });
    for (const line of [
      'root = "/tmp/kh-x/root"',
      'state = "/tmp/kh-x/state"',
      'address = "/tmp/kh-x/containerd.sock"',
      'sandbox_image = "127.0.0.1:5000/kubelet-harness/pause:3.10"',
      'restrict_oom_score_adj = true',
      'tolerate_missing_hugetlb_controller = true',
      'disable_hugetlb_controller = true',
      'bin_dir = "/tmp/kh-x/cni-bin"',
      'conf_dir = "/tmp/kh-x/cni-conf"',
      'config_path = "/tmp/kh-x/certs.d"',
      'path = "/tmp/kh-x/opt"',
      'stream_server_address = "127.0.0.1"',
      'snapshotter = "overlayfs"',
    ]) {
      expect(dump).toContain(line);
    }
  });

  it('quotes paths so a quote or backslash cannot break out of the string', () => {
    const toml = containerdConfigToml({ paths: { ...paths, root: '/tmp/a"b\\c' }, sandboxImage: 'p', restrictOomScoreAdj: false });
    expect(toml).toContain('root = "/tmp/a\\"b\\\\c"');
    expect(toml).toContain('restrict_oom_score_adj = false');
    expect(containerdConfigToml({ paths, sandboxImage: 'p', restrictOomScoreAdj: true, snapshotter: 'native' })).toContain('snapshotter = "native"');
  });
});

describe('registry host files', () => {
  it('send the local registry and the mirrored upstream names to http://127.0.0.1:PORT', () => {
    const files = registryHostsFiles('127.0.0.1:5123');
    expect(files.get('127.0.0.1:5123')).toContain('[host."http://127.0.0.1:5123"]');
    expect(files.get('registry.k8s.io')).toMatch(/^server = "https:\/\/registry\.k8s\.io"\n\n\[host\."http:\/\/127\.0\.0\.1:5123"\]\n {2}capabilities = \["pull", "resolve"\]/);
    expect([...files.keys()]).toEqual(expect.arrayContaining(['docker.io', 'registry.k8s.io']));
  });
});

describe('the CNI conflist', () => {
  it('chains bridge (host-local IPAM in a private dir), portmap, then the extra plugins', () => {
    const conflist = JSON.parse(
      cniConflist({ name: 'kh', bridge: 'khb-0123abcd', subnet: '10.200.3.0/24', ipamDataDir: '/tmp/kh-x/ipam', extraPlugins: [{ type: 'kubelet-harness-cni', mode: 'record' }] }),
    ) as { cniVersion: string; plugins: { type: string; bridge?: string; ipam?: { dataDir: string; ranges: { subnet: string; gateway: string }[][] } }[] };
    expect(conflist.cniVersion).toBe('1.0.0');
    expect(conflist.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap', 'kubelet-harness-cni']);
    expect(conflist.plugins[0]?.bridge).toBe('khb-0123abcd');
    expect(conflist.plugins[0]?.ipam?.dataDir).toBe('/tmp/kh-x/ipam');
    expect(conflist.plugins[0]?.ipam?.ranges).toEqual([[{ subnet: '10.200.3.0/24', gateway: '10.200.3.1' }]]);
  });

  it('names the field that is wrong', () => {
    const base = { name: 'kh', bridge: 'khb-1', subnet: '10.0.0.0/24', ipamDataDir: '/x' };
    expect(() => cniConflist({ ...base, bridge: 'a-name-longer-than-15' })).toThrow(/bridge name "a-name-longer-than-15"/);
    expect(() => cniConflist({ ...base, subnet: '10.0.0.0' })).toThrow(/subnet "10.0.0.0"/);
    expect(() => cniConflist({ ...base, extraPlugins: [{ name: 'no-type' }] })).toThrow(/extraPlugins\[0\]\.type/);
  });

  it('puts the gateway on the first host address', () => {
    expect(gatewayOf('10.129.7.0/24')).toBe('10.129.7.1');
    expect(gatewayOf('10.129.7.77/16')).toBe('10.129.0.1');
  });
});

describe('the per-run network', () => {
  it('detects overlapping CIDRs', () => {
    expect(overlaps('10.1.2.0/24', '10.1.0.0/16')).toBe(true);
    expect(overlaps('10.1.2.0/24', '10.1.3.0/24')).toBe(false);
    expect(overlaps('10.1.2.7/32', '10.1.2.0/24')).toBe(true);
  });

  it('avoids subnets in use, ignoring the default route', () => {
    // random(127) then random(256) per candidate: 10.133.5.0/24 (taken), then 10.133.6.0/24.
    const picks = [5, 5, 5, 6];
    let i = 0;
    const random = (): number => picks[i++ % picks.length] as number;
    const choice = chooseNetwork(['0.0.0.0/0', '10.133.5.0/24'], random);
    expect(choice.subnet).toBe('10.133.6.0/24');
    expect(choice.bridge).toMatch(/^khb-[0-9a-f]{8}$/);
  });
});

describe('capabilities', () => {
  it('see CAP_SYS_RESOURCE only when it is both effective and in the bounding set', () => {
    const without = parseCapabilitySets('Name:\tx\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n');
    expect(hasCapability(without, 'CAP_SYS_RESOURCE')).toBe(false);
    expect(hasCapability(without, 'CAP_SYS_ADMIN')).toBe(true);
    const full = parseCapabilitySets('CapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n');
    expect(hasCapability(full, 'CAP_SYS_RESOURCE')).toBe(true);
    expect(() => parseCapabilitySets('CapEff:\t0\n')).toThrow(/no CapBnd line/);
  });
});
