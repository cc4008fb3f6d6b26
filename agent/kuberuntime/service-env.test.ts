import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { makeEnvironmentVariables } from './env.js';
import { isServiceIPSet, serviceEnvForPod, serviceEnvVars } from './service-env.js';
import { container, pod } from './test-fixtures.js';

function service(namespace: string, name: string, clusterIP: string, ports: Array<{ port: number; name?: string; protocol?: string }>): V1Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ports } };
}

const kubernetes = service('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]);

describe('serviceEnvVars', () => {
  it('gives a service its host, port, named ports and Docker-link variables in upstream order', () => {
    expect(serviceEnvVars([service('shop', 'redis-primary', '10.0.0.11', [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'UDP' }])])).toEqual([
      { key: 'REDIS_PRIMARY_SERVICE_HOST', value: '10.0.0.11' },
      { key: 'REDIS_PRIMARY_SERVICE_PORT', value: '6379' },
      { key: 'REDIS_PRIMARY_SERVICE_PORT_METRICS', value: '9121' },
      { key: 'REDIS_PRIMARY_PORT', value: 'tcp://10.0.0.11:6379' },
      { key: 'REDIS_PRIMARY_PORT_6379_TCP', value: 'tcp://10.0.0.11:6379' },
      { key: 'REDIS_PRIMARY_PORT_6379_TCP_PROTO', value: 'tcp' },
      { key: 'REDIS_PRIMARY_PORT_6379_TCP_PORT', value: '6379' },
      { key: 'REDIS_PRIMARY_PORT_6379_TCP_ADDR', value: '10.0.0.11' },
      { key: 'REDIS_PRIMARY_PORT_9121_UDP', value: 'udp://10.0.0.11:9121' },
      { key: 'REDIS_PRIMARY_PORT_9121_UDP_PROTO', value: 'udp' },
      { key: 'REDIS_PRIMARY_PORT_9121_UDP_PORT', value: '9121' },
      { key: 'REDIS_PRIMARY_PORT_9121_UDP_ADDR', value: '10.0.0.11' },
    ]);
  });

  it('brackets an IPv6 cluster IP in URLs', () => {
    const vars = serviceEnvVars([service('shop', 'web', 'fd00::10', [{ port: 80 }])]);
    expect(vars.find((v) => v.key === 'WEB_PORT')?.value).toBe('tcp://[fd00::10]:80');
    expect(vars.find((v) => v.key === 'WEB_SERVICE_HOST')?.value).toBe('fd00::10');
  });

  it('skips headless services and services without a cluster IP', () => {
    expect(isServiceIPSet(service('shop', 'db', 'None', [{ port: 5432 }]))).toBe(false);
    expect(serviceEnvVars([service('shop', 'db', 'None', [{ port: 5432 }]), service('shop', 'x', '', [{ port: 1 }])])).toEqual([]);
  });
});

describe('serviceEnvForPod', () => {
  const services = [
    service('shop', 'web', '10.0.0.20', [{ port: 80 }]),
    service('other', 'cache', '10.0.0.30', [{ port: 11211 }]),
    kubernetes,
  ];

  it('links the services of the pod namespace and default/kubernetes', () => {
    const env = serviceEnvForPod(pod({}, { namespace: 'shop' }), services);
    expect(env.get('WEB_SERVICE_HOST')).toBe('10.0.0.20');
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(env.get('KUBERNETES_SERVICE_PORT_HTTPS')).toBe('443');
    expect(env.has('CACHE_SERVICE_HOST')).toBe(false);
  });

  it('keeps only default/kubernetes when enableServiceLinks is false', () => {
    const env = serviceEnvForPod(pod({ enableServiceLinks: false }, { namespace: 'shop' }), services);
    expect([...env.keys()].every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });

  it("lets a namespace's own service named kubernetes win over the master service when links are on", () => {
    const own = service('shop', 'kubernetes', '10.0.0.99', [{ port: 8443 }]);
    expect(serviceEnvForPod(pod({}, { namespace: 'shop' }), [own, kubernetes]).get('KUBERNETES_SERVICE_HOST')).toBe('10.0.0.99');
    expect(serviceEnvForPod(pod({}, { namespace: 'shop' }), [kubernetes, own]).get('KUBERNETES_SERVICE_HOST')).toBe('10.0.0.99');
    expect(serviceEnvForPod(pod({ enableServiceLinks: false }, { namespace: 'shop' }), [own, kubernetes]).get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
  });
});

describe('makeEnvironmentVariables with service links', () => {
  const ctx = {
    nodeName: 'node-1',
    hostIPs: ['192.168.1.2'],
    podIPs: ['10.0.0.5'],
    configMap: () => undefined,
    secret: () => undefined,
    nodeAllocatable: { cpuMilli: 2000n, memoryBytes: 4n * 1024n ** 3n },
  };
  const serviceEnv = serviceEnvForPod(pod({}, { namespace: 'shop' }), [kubernetes, service('shop', 'web', '10.0.0.20', [{ port: 80 }])]);

  it('appends the service variables after the container env, and an explicit variable wins', () => {
    const c = container('app', { env: [{ name: 'MODE', value: 'prod' }, { name: 'WEB_SERVICE_HOST', value: 'override' }] });
    const env = makeEnvironmentVariables({ ...ctx, pod: pod({ containers: [c] }, { namespace: 'shop' }), container: c, serviceEnv });
    expect(env.slice(0, 2)).toEqual([
      { key: 'MODE', value: 'prod' },
      { key: 'WEB_SERVICE_HOST', value: 'override' },
    ]);
    expect(env.filter((e) => e.key === 'WEB_SERVICE_HOST')).toHaveLength(1);
    expect(env.find((e) => e.key === 'KUBERNETES_SERVICE_HOST')?.value).toBe('10.96.0.1');
    expect(env.length).toBe(2 + serviceEnv.size - 1);
  });

  it('expands $(VAR) in values against the service variables', () => {
    const c = container('app', { env: [{ name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' }] });
    const env = makeEnvironmentVariables({ ...ctx, pod: pod({ containers: [c] }, { namespace: 'shop' }), container: c, serviceEnv });
    expect(env[0]).toEqual({ key: 'API', value: 'https://10.96.0.1:443' });
  });

  it('resolves valueFrom when value is the empty string, as upstream does', () => {
    const c = container('app', { env: [{ name: 'POD', value: '', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] });
    const env = makeEnvironmentVariables({ ...ctx, pod: pod({ containers: [c] }), container: c });
    expect(env).toEqual([{ key: 'POD', value: 'web' }]);
  });
});
