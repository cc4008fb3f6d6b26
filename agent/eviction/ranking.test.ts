import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { evictionRequest, isCriticalPod, rankPodsForEviction, selectPodToEvict, type PodUsage } from './ranking.js';

const Mi = 1024n * 1024n;

function pod(name: string, options: { memory?: string; storage?: string; priority?: number; annotations?: Record<string, string> } = {}): V1Pod {
  const requests: Record<string, string> = {};
  if (options.memory !== undefined) requests.memory = options.memory;
  if (options.storage !== undefined) requests['ephemeral-storage'] = options.storage;
  return {
    metadata: { name, ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec: {
      containers: [{ name: 'c', resources: { requests } }],
      ...(options.priority === undefined ? {} : { priority: options.priority }),
    },
  };
}

const names = (pods: V1Pod[]) => pods.map((p) => p.metadata?.name);
const mem = (mib: bigint): PodUsage => ({ memoryWorkingSetBytes: mib * Mi });

describe('rankPodsForEviction under memory pressure', () => {
  it('orders by over-request, then priority, then usage above request; QoS is not a key', () => {
    const ranked = rankPodsForEviction('memory.available', [
      { pod: pod('within-request', { memory: '500Mi' }), stats: mem(400n) },
      { pod: pod('best-effort-100-over'), stats: mem(100n) },
      { pod: pod('burstable-150-over', { memory: '50Mi' }), stats: mem(200n) },
      { pod: pod('high-priority-over', { memory: '10Mi', priority: 1000 }), stats: mem(900n) },
      { pod: pod('low-priority-within', { memory: '1Gi', priority: -10 }), stats: mem(10n) },
    ]);
    expect(names(ranked)).toEqual(['burstable-150-over', 'best-effort-100-over', 'high-priority-over', 'low-priority-within', 'within-request']);
  });

  it('puts pods without stats first', () => {
    const ranked = rankPodsForEviction('memory.available', [
      { pod: pod('measured-over'), stats: mem(1000n) },
      { pod: pod('unmeasured', { priority: 100 }), stats: null },
    ]);
    expect(names(ranked)).toEqual(['unmeasured', 'measured-over']);
  });

  it('counts the memory request after pod overhead, added only to a non-zero request', () => {
    const withOverhead: V1Pod = { ...pod('o', { memory: '100Mi' }), spec: { ...pod('o', { memory: '100Mi' }).spec!, overhead: { memory: '20Mi' } } };
    expect(evictionRequest(withOverhead, 'memory').toString()).toBe('120Mi');
    const noRequest: V1Pod = { ...pod('n'), spec: { ...pod('n').spec!, overhead: { memory: '20Mi' } } };
    expect(evictionRequest(noRequest, 'memory').isZero()).toBe(true);
  });

  it('uses pod-level requests alone when PodLevelResources is on and they are set', () => {
    const p: V1Pod = { ...pod('p', { memory: '100Mi' }), spec: { ...pod('p', { memory: '100Mi' }).spec!, resources: { requests: { memory: '1Gi' } } } };
    expect(evictionRequest(p, 'memory').toString()).toBe('1Gi');
    expect(evictionRequest(p, 'memory', { featureGates: { PodLevelResources: false } }).toString()).toBe('100Mi');
  });

  it('keeps input order between pods with equal keys', () => {
    const ranked = rankPodsForEviction('memory.available', [
      { pod: pod('a'), stats: null },
      { pod: pod('b'), stats: null },
      { pod: pod('c'), stats: null },
    ]);
    expect(names(ranked)).toEqual(['a', 'b', 'c']);
  });
});

describe('rankPodsForEviction under disk pressure', () => {
  const usage: PodUsage = { rootfsBytes: 300n * Mi, logsBytes: 100n * Mi, localVolumesBytes: 50n * Mi };

  it('measures rootfs + logs + local volumes on a single filesystem', () => {
    const ranked = rankPodsForEviction('nodefs.available', [
      { pod: pod('within', { storage: '1Gi' }), stats: usage },
      { pod: pod('over', { storage: '400Mi' }), stats: usage },
    ]);
    expect(names(ranked)).toEqual(['over', 'within']);
  });

  it('with a dedicated imagefs, nodefs counts logs + volumes and imagefs counts rootfs', () => {
    const a = { pod: pod('rootfs-heavy', { storage: '200Mi' }), stats: { rootfsBytes: 1000n * Mi, logsBytes: 10n * Mi } };
    const b = { pod: pod('logs-heavy', { storage: '200Mi' }), stats: { rootfsBytes: 10n * Mi, logsBytes: 1000n * Mi } };
    expect(names(rankPodsForEviction('nodefs.available', [a, b], { layout: 'imagefs' }))).toEqual(['logs-heavy', 'rootfs-heavy']);
    expect(names(rankPodsForEviction('imagefs.available', [b, a], { layout: 'imagefs' }))).toEqual(['rootfs-heavy', 'logs-heavy']);
  });

  it('ranks inodes by inode usage, subtracting the ephemeral-storage request as upstream does', () => {
    const ranked = rankPodsForEviction('nodefs.inodesFree', [
      { pod: pod('few', { storage: '0' }), stats: { rootfsInodes: 10n } },
      { pod: pod('many-but-big-request', { storage: '1k' }), stats: { rootfsInodes: 500n } },
      { pod: pod('many', { storage: '0' }), stats: { rootfsInodes: 100n } },
    ]);
    expect(names(ranked)).toEqual(['many', 'few', 'many-but-big-request']);
  });
});

describe('rankPodsForEviction under PID pressure', () => {
  it('orders by priority, then by process count', () => {
    const ranked = rankPodsForEviction('pid.available', [
      { pod: pod('few'), stats: { processes: 3 } },
      { pod: pod('important-many', { priority: 10 }), stats: { processes: 500 } },
      { pod: pod('many'), stats: { processes: 300 } },
      { pod: pod('unmeasured'), stats: null },
    ]);
    expect(names(ranked)).toEqual(['unmeasured', 'many', 'few', 'important-many']);
  });
});

describe('critical pods', () => {
  it('recognises static, mirror and system-critical pods', () => {
    expect(isCriticalPod(pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } }))).toBe(true);
    expect(isCriticalPod(pod('api', { annotations: { 'kubernetes.io/config.source': 'api' } }))).toBe(false);
    expect(isCriticalPod(pod('mirror', { annotations: { 'kubernetes.io/config.mirror': 'hash' } }))).toBe(true);
    expect(isCriticalPod(pod('cluster-critical', { priority: 2000000000 }))).toBe(true);
    expect(isCriticalPod(pod('almost', { priority: 1999999999 }))).toBe(false);
  });

  it('ranks them normally but selects the first non-critical pod', () => {
    const ranked = rankPodsForEviction('memory.available', [
      { pod: pod('critical-hog', { priority: 2000001000 }), stats: null },
      { pod: pod('ordinary'), stats: mem(10n) },
    ]);
    expect(names(ranked)).toEqual(['critical-hog', 'ordinary']);
    expect(selectPodToEvict(ranked)?.metadata?.name).toBe('ordinary');
    expect(selectPodToEvict(ranked.slice(0, 1))).toBeNull();
  });
});
