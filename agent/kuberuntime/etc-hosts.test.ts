import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ensurePodEtcHosts,
  etcHostsFilePath,
  managedHostsFileContent,
  nodeHostsFileContent,
  podEtcHosts,
  shouldManageEtcHosts,
  writeEtcHosts,
} from './etc-hosts.js';
import { pod } from './test-fixtures.js';

const LOCAL =
  '# Kubernetes-managed hosts file.\n' +
  '127.0.0.1\tlocalhost\n' +
  '::1\tlocalhost ip6-localhost ip6-loopback\n' +
  'fe00::0\tip6-localnet\n' +
  'fe00::0\tip6-mcastprefix\n' +
  'fe00::1\tip6-allnodes\n' +
  'fe00::2\tip6-allrouters\n';

describe('managedHostsFileContent', () => {
  it('names the pod on every pod IP after the localhost entries', () => {
    expect(managedHostsFileContent(['10.0.0.5', 'fd00::5'], 'web', '')).toBe(`${LOCAL}10.0.0.5\tweb\nfd00::5\tweb\n`);
  });

  it('puts the fully qualified name first when the pod has a subdomain', () => {
    expect(managedHostsFileContent(['10.0.0.5'], 'web-0', 'web.shop.svc.cluster.local')).toBe(
      `${LOCAL}10.0.0.5\tweb-0.web.shop.svc.cluster.local\tweb-0\n`,
    );
  });

  it('appends hostAliases, all names of one IP on one line', () => {
    const aliases = [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }, { ip: '10.1.2.4', hostnames: ['baz'] }];
    expect(managedHostsFileContent(['10.0.0.5'], 'web', '', aliases)).toBe(
      `${LOCAL}10.0.0.5\tweb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n10.1.2.4\tbaz\n`,
    );
  });
});

describe('podEtcHosts', () => {
  it('uses spec.hostname and spec.subdomain with the cluster domain', () => {
    const p = pod({ hostname: 'db-0', subdomain: 'db', hostAliases: [{ ip: '1.2.3.4', hostnames: ['x'] }] }, { namespace: 'shop' });
    expect(podEtcHosts(p, ['10.0.0.7'], 'cluster.local')).toContain('10.0.0.7\tdb-0.db.shop.svc.cluster.local\tdb-0\n');
    expect(podEtcHosts(p, ['10.0.0.7'], 'cluster.local')).toContain('1.2.3.4\tx\n');
    expect(podEtcHosts(pod({}), ['10.0.0.7'], 'cluster.local')).toContain('10.0.0.7\tweb\n');
  });
});

describe('shouldManageEtcHosts', () => {
  it('manages the file once the pod has IPs (a host-network pod has the node\'s)', () => {
    expect(shouldManageEtcHosts(['10.0.0.5'])).toBe(true);
    expect(shouldManageEtcHosts(['192.168.1.2'])).toBe(true);
    expect(shouldManageEtcHosts([])).toBe(false);
  });
});

describe('nodeHostsFileContent', () => {
  it('copies the node file as it is under the host-network header, then the hostAliases', () => {
    const node = '127.0.0.1 localhost\n10.9.8.7 node-a\n';
    expect(nodeHostsFileContent(node)).toBe(`# Kubernetes-managed hosts file (host network).\n${node}`);
    expect(nodeHostsFileContent(node, [{ ip: '10.1.2.3', hostnames: ['foo', 'bar'] }])).toBe(
      `# Kubernetes-managed hosts file (host network).\n${node}\n# Entries added by HostAliases.\n10.1.2.3\tfoo\tbar\n`,
    );
  });

  it('does not add a newline to a node file that lacks a final one (as upstream)', () => {
    expect(nodeHostsFileContent('127.0.0.1 localhost')).toBe('# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost');
  });
});

describe('podEtcHosts for a host-network pod', () => {
  it('is built from the node file, not from the pod IPs or names', () => {
    const p = pod({ hostNetwork: true, hostname: 'db-0', subdomain: 'db' });
    const got = podEtcHosts(p, ['192.168.1.2'], 'cluster.local', '127.0.0.1 localhost\n');
    expect(got).toBe('# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n');
  });

  it('throws when the node file is not given', () => {
    expect(() => podEtcHosts(pod({ hostNetwork: true }), ['192.168.1.2'], 'cluster.local')).toThrow(/node's hosts file/);
  });
});

describe('ensurePodEtcHosts', () => {
  it('writes the pod file from the node file at the injected path, re-reading it on every call', async () => {
    const root = mkdtempSync(join(tmpdir(), 'etc-hosts-'));
    try {
      const nodeHosts = join(root, 'node-hosts');
      writeFileSync(nodeHosts, '127.0.0.1 localhost\n');
      const p = pod({ hostNetwork: true, hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo'] }] });
      const path = await ensurePodEtcHosts(root, p, ['192.168.1.2'], 'cluster.local', nodeHosts);
      expect(path).toBe(etcHostsFilePath(root, 'uid-1'));
      expect(readFileSync(path, 'utf8')).toBe(
        '# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo\n',
      );
      writeFileSync(nodeHosts, '127.0.0.1 localhost\n10.0.0.9 added\n');
      await ensurePodEtcHosts(root, p, ['192.168.1.2'], 'cluster.local', nodeHosts);
      expect(readFileSync(path, 'utf8')).toContain('10.0.0.9 added\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails naming the node file when it cannot be read', async () => {
    const root = mkdtempSync(join(tmpdir(), 'etc-hosts-'));
    try {
      await expect(ensurePodEtcHosts(root, pod({ hostNetwork: true }), ['192.168.1.2'], 'cluster.local', join(root, 'missing'))).rejects.toThrow(/missing/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('writes the pod-network file for other pods without reading the node file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'etc-hosts-'));
    try {
      const path = await ensurePodEtcHosts(root, pod({}), ['10.0.0.5'], 'cluster.local', join(root, 'missing'));
      expect(readFileSync(path, 'utf8')).toBe(`${LOCAL}10.0.0.5\tweb\n`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('writeEtcHosts', () => {
  it('writes <root>/pods/<uid>/etc-hosts with mode 0644 and rewrites it on the next start', async () => {
    const root = mkdtempSync(join(tmpdir(), 'etc-hosts-'));
    try {
      const path = await writeEtcHosts(root, 'uid-1', 'first\n');
      expect(path).toBe(etcHostsFilePath(root, 'uid-1'));
      expect(path).toBe(join(root, 'pods', 'uid-1', 'etc-hosts'));
      expect(statSync(path).mode & 0o777).toBe(0o644);
      await writeEtcHosts(root, 'uid-1', 'second\n');
      expect(readFileSync(path, 'utf8')).toBe('second\n');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
