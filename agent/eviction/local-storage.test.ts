import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { localStorageViolation } from './manager.js';

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
});
