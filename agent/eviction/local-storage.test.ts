import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { localStorageViolation } from './local-storage.js';

const Mi = 1024n * 1024n;

function pod(containers: Array<{ name: string; limit?: string }>): V1Pod {
  return {
    metadata: { name: 'p', uid: 'u' },
    spec: { containers: containers.map((c) => ({ name: c.name, ...(c.limit ? { resources: { limits: { 'ephemeral-storage': c.limit } } } : {}) })) },
  };
}

describe('local storage limit violations', () => {
  it('blames one container over its own limit while the pod stays under the sum of limits', () => {
    const p = pod([{ name: 'a', limit: '1Mi' }, { name: 'b', limit: '10Mi' }]);
    const stats = { rootfsBytes: 3n * Mi, logsBytes: 0n, containers: [{ name: 'a', rootfsBytes: 2n * Mi, logsBytes: 0n }, { name: 'b', rootfsBytes: 1n * Mi, logsBytes: 0n }] };
    expect(localStorageViolation(p, stats)).toEqual({ signal: 'ephemeralcontainerfs.limit', message: 'Container a exceeded its local ephemeral storage limit "1Mi". ' });
    // With a dedicated imagefs the writable layer does not count against the container's limit.
    expect(localStorageViolation(p, stats, 'imagefs')).toBeNull();
  });

  it('blames the pod when its total (rootfs + logs + local volumes) exceeds the sum of its containers limits', () => {
    const p = pod([{ name: 'a', limit: '2Mi' }, { name: 'b', limit: '2Mi' }]);
    const stats = { rootfsBytes: 2n * Mi, logsBytes: 1n * Mi, localVolumesBytes: 2n * Mi, containers: [{ name: 'a', rootfsBytes: 1n * Mi, logsBytes: 0n }, { name: 'b', rootfsBytes: 1n * Mi, logsBytes: 1n * Mi }] };
    expect(localStorageViolation(p, stats)).toEqual({ signal: 'ephemeralpodfs.limit', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 4Mi. ' });
  });

  it('ignores pods without limits or without stats, and usage exactly at the limit', () => {
    expect(localStorageViolation(pod([{ name: 'a' }]), { rootfsBytes: 100n * Mi, containers: [{ name: 'a', rootfsBytes: 100n * Mi, logsBytes: 0n }] })).toBeNull();
    expect(localStorageViolation(pod([{ name: 'a', limit: '1Mi' }]), null)).toBeNull();
    expect(localStorageViolation(pod([{ name: 'a', limit: '1Mi' }]), { rootfsBytes: 1n * Mi, containers: [{ name: 'a', rootfsBytes: 1n * Mi, logsBytes: 0n }] })).toBeNull();
  });

  it('evicts for an emptyDir whose measured usage exceeds its sizeLimit, before any ephemeral-storage limit', () => {
    const p: V1Pod = {
      metadata: { name: 'p', uid: 'u' },
      spec: {
        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'data', emptyDir: { sizeLimit: '8Ki' } }],
        containers: [{ name: 'a', resources: { limits: { 'ephemeral-storage': '1Ki' } } }],
      },
    };
    const stats = { rootfsBytes: 1n * Mi, volumes: [{ name: 'scratch', usedBytes: 1n * Mi }, { name: 'data', usedBytes: 20_480n }], containers: [{ name: 'a', rootfsBytes: 1n * Mi, logsBytes: 0n }] };
    expect(localStorageViolation(p, stats)).toEqual({ signal: 'emptydirfs.limit', message: 'Usage of EmptyDir volume "data" exceeds the limit "8Ki". ' });
  });

  it('does not evict for an emptyDir at its sizeLimit, without a sizeLimit, with a zero sizeLimit or without a measurement', () => {
    const withVolumes = (volumes: NonNullable<V1Pod['spec']>['volumes']): V1Pod => ({ metadata: { name: 'p', uid: 'u' }, spec: { volumes, containers: [{ name: 'a' }] } });
    const at = { volumes: [{ name: 'data', usedBytes: 8192n }] };
    expect(localStorageViolation(withVolumes([{ name: 'data', emptyDir: { sizeLimit: '8Ki' } }]), at)).toBeNull();
    expect(localStorageViolation(withVolumes([{ name: 'data', emptyDir: {} }]), { volumes: [{ name: 'data', usedBytes: 1n << 40n }] })).toBeNull();
    expect(localStorageViolation(withVolumes([{ name: 'data', emptyDir: { sizeLimit: '0' } }]), at)).toBeNull();
    expect(localStorageViolation(withVolumes([{ name: 'data', emptyDir: { sizeLimit: '1Ki' } }]), { volumes: [] })).toBeNull();
  });

  it('counts container logs against the container limit, also when writable layers live on a dedicated imagefs', () => {
    const p = pod([{ name: 'a', limit: '1Mi' }]);
    const stats = { rootfsBytes: 0n, logsBytes: 2n * Mi, containers: [{ name: 'a', rootfsBytes: 0n, logsBytes: 2n * Mi }] };
    const expected = { signal: 'ephemeralcontainerfs.limit', message: 'Container a exceeded its local ephemeral storage limit "1Mi". ' };
    // With one container the pod limit equals the container's, and the pod check comes first.
    expect(localStorageViolation(p, stats)).toEqual({ signal: 'ephemeralpodfs.limit', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ' });
    const two = pod([{ name: 'a', limit: '1Mi' }, { name: 'b', limit: '10Mi' }]);
    expect(localStorageViolation(two, stats, 'imagefs')).toEqual(expected);
  });
});
