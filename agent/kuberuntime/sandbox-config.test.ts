import { describe, expect, it } from 'vitest';
import { kernelHostname, podHostnameAndDomain } from './hostname.js';
import { generatePodSandboxConfig, podPortMappings, type SandboxConfigOptions } from './sandbox-config.js';
import { container, pod } from './test-fixtures.js';

const options: SandboxConfigOptions = {
  attempt: 0,
  cgroupDriver: 'cgroupfs',
  dns: { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: { servers: ['1.1.1.1'], searches: [], options: [] } },
  resources: { memoryCapacityBytes: 8n * 1024n ** 3n },
};

describe('generatePodSandboxConfig', () => {
  const p = pod(
    {
      containers: [
        container('web', {
          ports: [{ containerPort: 80, hostPort: 8080, name: 'http' }, { containerPort: 53, protocol: 'UDP' }],
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
        }),
      ],
      securityContext: { runAsUser: 1000, sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }] },
    },
    { name: 'web', namespace: 'shop', uid: '1234-5678', labels: { app: 'web' }, annotations: { note: 'x' } },
  );

  it('carries metadata, pod labels plus the kubelet labels, and pod annotations', () => {
    const c = generatePodSandboxConfig(p, { ...options, attempt: 2 });
    expect(c.metadata).toEqual({ name: 'web', namespace: 'shop', uid: '1234-5678', attempt: 2 });
    expect(c.labels).toEqual({
      app: 'web',
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'shop',
      'io.kubernetes.pod.uid': '1234-5678',
    });
    expect(c.annotations).toEqual({ note: 'x' });
  });

  it('sets hostname, log directory, DNS and every container port as a mapping', () => {
    const c = generatePodSandboxConfig(p, options);
    expect(c.hostname).toBe('web');
    expect(c.logDirectory).toBe('/var/log/pods/shop_web_1234-5678');
    expect(c.dnsConfig?.servers).toEqual(['10.96.0.10']);
    expect(c.portMappings).toEqual([
      { protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' },
      { protocol: 'UDP', containerPort: 53, hostPort: 0, hostIp: '' },
    ]);
  });

  it('puts a Burstable pod under kubepods/burstable and fills namespaces, sysctls and resources', () => {
    const c = generatePodSandboxConfig(p, options);
    expect(c.linux?.cgroupParent).toBe('/kubepods/burstable/pod1234-5678');
    expect(c.linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    expect(c.linux?.securityContext?.runAsUser).toEqual({ value: 1000 });
    expect(c.linux?.sysctls).toEqual({ 'net.ipv4.ip_local_port_range': '1024 65000' });
    expect(c.linux?.resources).toMatchObject({ cpuShares: 102, cpuQuota: 0, memoryLimitInBytes: 0 });
  });

  it('gives a hostNetwork pod no hostname and the node network namespace', () => {
    const c = generatePodSandboxConfig(pod({ hostNetwork: true, hostPID: true }), { ...options, cgroupDriver: 'systemd' });
    expect(c.hostname).toBeUndefined();
    expect(c.linux?.securityContext?.namespaceOptions).toEqual({ network: 'NODE', pid: 'NODE', ipc: 'POD' });
    expect(c.linux?.cgroupParent).toBe('/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poduid_1.slice');
  });

  it('rejects an unsupported port protocol naming the field', () => {
    const bad = pod({ containers: [container('a', { ports: [{ containerPort: 1, protocol: 'QUIC' }] })] });
    expect(() => podPortMappings(bad)).toThrow('spec.containers[0].ports[0].protocol');
  });
});

describe('pod hostname', () => {
  it('prefers spec.hostname, adds the subdomain domain and truncates to 63 characters', () => {
    expect(podHostnameAndDomain(pod({ hostname: 'db-0', subdomain: 'db' }, { namespace: 'data' }), 'cluster.local')).toEqual({
      hostname: 'db-0',
      domain: 'db.data.svc.cluster.local',
    });
    const long = `${'a'.repeat(62)}-b`;
    expect(podHostnameAndDomain(pod({}, { name: `${long}cc` }), 'cluster.local').hostname).toBe('a'.repeat(62));
    expect(kernelHostname(pod({ hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true }, { namespace: 'data' }), 'cluster.local')).toBe(
      'db-0.db.data.svc.cluster.local',
    );
  });
});
