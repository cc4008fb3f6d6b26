/**
 * kubernetes PR #142306 (open, not merged; related issue #123591): when the stats summary has no
 * entry for a pod, upstream ranks that pod ahead of every measured pod, even one whose measured
 * usage exceeds its request. The PR proposes ranking the measured over-request pod first and keeping
 * the missing-stats preference otherwise.
 *
 * The reference kubelet follows upstream master by default (the behaviour every released kubelet
 * has) and offers the PR's order as `missingStats: 'afterMeasuredOverRequest'`, so both can be
 * fuzzed and compared. These specs pin both.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { rankPodsForEviction, selectPodToEvict, type RankedPodInput } from '../agent/eviction/ranking.js';

const Mi = 1n << 20n;

function pod(name: string, requests: Record<string, string>, priority: number): V1Pod {
  return { metadata: { name, uid: name }, spec: { priority, containers: [{ name: 'c', resources: { requests } }] } };
}

const names = (pods: V1Pod[]) => pods.map((p) => p.metadata?.name);

// Issue #123591's scenario: the pod without stats has the higher priority; the lower-priority pod
// is measured and well over its request.
const memoryCase: RankedPodInput[] = [
  { pod: pod('measured-over-request', { memory: '100Mi' }, 0), stats: { memoryWorkingSetBytes: 900n * Mi } },
  { pod: pod('no-stats-high-priority', { memory: '100Mi' }, 1000), stats: null },
  { pod: pod('measured-within-request', { memory: '1Gi' }, 0), stats: { memoryWorkingSetBytes: 10n * Mi } },
];
const diskCase: RankedPodInput[] = [
  { pod: pod('measured-over-request', { 'ephemeral-storage': '100Mi' }, 0), stats: { rootfsBytes: 700n * Mi, logsBytes: 50n * Mi } },
  { pod: pod('no-stats-high-priority', { 'ephemeral-storage': '100Mi' }, 1000), stats: null },
  { pod: pod('measured-within-request', { 'ephemeral-storage': '1Gi' }, 0), stats: { rootfsBytes: 1n * Mi } },
];

describe('kubernetes PR #142306: eviction ranking with missing stats', () => {
  it('by default (upstream master) evicts the pod without stats first under memory pressure', () => {
    const ranked = rankPodsForEviction('memory.available', memoryCase);
    expect(names(ranked)).toEqual(['no-stats-high-priority', 'measured-over-request', 'measured-within-request']);
    expect(selectPodToEvict(ranked)?.metadata?.name).toBe('no-stats-high-priority');
  });

  it('by default evicts the pod without stats first under nodefs pressure', () => {
    expect(names(rankPodsForEviction('nodefs.available', diskCase))).toEqual(['no-stats-high-priority', 'measured-over-request', 'measured-within-request']);
  });

  it("with the PR's policy evicts the measured over-request pod first, then the pod without stats", () => {
    const options = { missingStats: 'afterMeasuredOverRequest' } as const;
    expect(names(rankPodsForEviction('memory.available', memoryCase, options))).toEqual(['measured-over-request', 'no-stats-high-priority', 'measured-within-request']);
    expect(names(rankPodsForEviction('nodefs.available', diskCase, options))).toEqual(['measured-over-request', 'no-stats-high-priority', 'measured-within-request']);
  });

  it('under either policy a pod without stats still goes before measured pods within their request', () => {
    const withinOnly = memoryCase.filter((p) => p.pod.metadata?.name !== 'measured-over-request');
    for (const missingStats of ['rankFirst', 'afterMeasuredOverRequest'] as const) {
      expect(names(rankPodsForEviction('memory.available', withinOnly, { missingStats }))).toEqual(['no-stats-high-priority', 'measured-within-request']);
    }
  });

  it('does not change PID-pressure ranking, which has no request comparator', () => {
    const cases: RankedPodInput[] = [
      { pod: pod('busy', {}, 0), stats: { processes: 40 } },
      { pod: pod('no-stats', {}, 0), stats: null },
    ];
    for (const missingStats of ['rankFirst', 'afterMeasuredOverRequest'] as const) {
      expect(names(rankPodsForEviction('pid.available', cases, { missingStats }))).toEqual(['no-stats', 'busy']);
    }
  });
});
