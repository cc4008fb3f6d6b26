import { describe, expect, it } from 'vitest';
import { generateContainerConfig, type ContainerConfigOptions } from './container-config.js';
import { hashContainer } from './container-hash.js';
import { ContainerConfigError } from './env.js';
import { container, pod } from './test-fixtures.js';

const base: ContainerConfigOptions = {
  restartCount: 3,
  imageRef: 'sha256:abc',
  volumes: new Map([['data', { hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/data' }]]),
  resources: { memoryCapacityBytes: 8n * 1024n ** 3n },
  nodeName: 'node-1',
  hostIPs: ['192.168.1.2'],
  podIPs: ['10.0.0.5'],
  configMap: (name) => (name === 'cfg' ? { MODE: 'prod', 'bad key': 'x' } : undefined),
  secret: (name) => (name === 'creds' ? { token: 's3cret' } : undefined),
  nodeAllocatable: { cpuMilli: 2000n, memoryBytes: 4n * 1024n ** 3n },
};

describe('generateContainerConfig', () => {
  const c = container('app', {
    command: ['/bin/run', '--mode=$(MODE)'],
    args: ['$(GREETING)', '$$(GREETING)', '$(MISSING)'],
    env: [
      { name: 'GREETING', value: 'hello $(MODE)' },
      { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'requests.memory', divisor: '1Mi' } } },
    ],
    envFrom: [{ configMapRef: { name: 'cfg' } }],
    volumeMounts: [{ name: 'data', mountPath: '/data', subPath: 'app' }],
    resources: { requests: { memory: '64Mi' } },
    lifecycle: { preStop: { exec: { command: ['sleep', '1'] } } },
    ports: [{ containerPort: 80 }],
  });
  const p = pod({ containers: [c], terminationGracePeriodSeconds: 45 });

  it('sets metadata, image, log path and the kubelet labels and annotations', () => {
    const cfg = generateContainerConfig(p, c, base);
    expect(cfg.metadata).toEqual({ name: 'app', attempt: 3 });
    expect(cfg.image).toEqual({ image: 'sha256:abc', userSpecifiedImage: c.image });
    expect(cfg.logPath).toBe('app/3.log');
    expect(cfg.labels).toEqual({
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'default',
      'io.kubernetes.pod.uid': 'uid-1',
      'io.kubernetes.container.name': 'app',
    });
    expect(cfg.annotations).toEqual({
      'io.kubernetes.container.hash': hashContainer(c),
      'io.kubernetes.container.restartCount': '3',
      'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
      'io.kubernetes.container.terminationMessagePolicy': 'File',
      'io.kubernetes.pod.terminationGracePeriod': '45',
      'io.kubernetes.container.preStopHandler': '{"exec":{"command":["sleep","1"]}}',
      'io.kubernetes.container.ports': '[{"containerPort":80}]',
    });
  });

  it('builds the environment from envFrom then env, expanding references in order', () => {
    const cfg = generateContainerConfig(p, c, base);
    expect(cfg.envs).toEqual([
      { key: 'MODE', value: 'prod' },
      { key: 'GREETING', value: 'hello prod' },
      { key: 'POD', value: 'web' },
      { key: 'IP', value: '10.0.0.5' },
      { key: 'TOKEN', value: 's3cret' },
      { key: 'CPU_LIMIT', value: '2000' },
      { key: 'MEM', value: '64' },
    ]);
    expect(cfg.command).toEqual(['/bin/run', '--mode=prod']);
    expect(cfg.args).toEqual(['hello prod', '$(GREETING)', '$(MISSING)']);
  });

  it('mounts volumes with subPath and the managed /etc/hosts and termination log', () => {
    const cfg = generateContainerConfig(p, c, { ...base, etcHostsPath: '/pods/uid-1/etc-hosts', terminationMessageHostPath: '/pods/uid-1/containers/app/abc' });
    expect(cfg.mounts).toEqual([
      { containerPath: '/data', hostPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~empty-dir/data/app', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/etc/hosts', hostPath: '/pods/uid-1/etc-hosts', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/dev/termination-log', hostPath: '/pods/uid-1/containers/app/abc', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    ]);
  });

  it('sends the resources and the default masked paths of an unprivileged container', () => {
    const cfg = generateContainerConfig(p, c, base);
    expect(cfg.linux?.resources).toMatchObject({ cpuShares: 2, memoryLimitInBytes: 0, oomScoreAdj: 993 });
    expect(cfg.linux?.securityContext?.maskedPaths).toContain('/proc/kcore');
    expect(cfg.linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  });

  it('fails with CreateContainerConfigError for a missing configmap, secret key or volume', () => {
    const missingCm = container('a', { envFrom: [{ configMapRef: { name: 'nope' } }] });
    expect(() => generateContainerConfig(pod({ containers: [missingCm] }), missingCm, base)).toThrow(ContainerConfigError);
    expect(() => generateContainerConfig(pod({ containers: [missingCm] }), missingCm, base)).toThrow('configmap "nope" not found');
    const missingKey = container('a', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'other' } } }] });
    expect(() => generateContainerConfig(pod({ containers: [missingKey] }), missingKey, base)).toThrow("couldn't find key other in Secret default/creds");
    const optional = container('a', { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'none', key: 'k', optional: true } } }] });
    expect(generateContainerConfig(pod({ containers: [optional] }), optional, base).envs).toEqual([]);
    const noVolume = container('a', { volumeMounts: [{ name: 'ghost', mountPath: '/g' }] });
    expect(() => generateContainerConfig(pod({ containers: [noVolume] }), noVolume, base)).toThrow('cannot find volume "ghost"');
  });
});
