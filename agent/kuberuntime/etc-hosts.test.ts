import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { etcHostsFilePath, managedHostsFileContent, podEtcHosts, shouldManageEtcHosts, writeEtcHosts } from './etc-hosts.js';
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
  it('manages the file for a pod on the pod network once its sandbox has an IP', () => {
    expect(shouldManageEtcHosts(pod({}), ['10.0.0.5'])).toBe(true);
    expect(shouldManageEtcHosts(pod({}), [])).toBe(false);
  });

  it('leaves host-network pods to the runtime', () => {
    expect(shouldManageEtcHosts(pod({ hostNetwork: true }), ['192.168.1.2'])).toBe(false);
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
