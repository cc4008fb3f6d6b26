import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { thresholdsMet } from './evaluation.js';
import { localVolumeNames, podUsageFromStats, signalObservationsFromSummary, type StatsSummary } from './observations.js';
import { rankPodsForEviction } from './ranking.js';
import { parseEvictionThresholds } from './thresholds.js';

const Gi = 1024 ** 3;
const Mi = 1024 ** 2;

const summary: StatsSummary = {
  node: {
    memory: { time: '2026-11-27T06:00:00Z', availableBytes: 1 * Gi, workingSetBytes: 7 * Gi },
    systemContainers: [{ name: 'pods', memory: { availableBytes: 512 * Mi, workingSetBytes: 6 * Gi } }],
    fs: { availableBytes: 9 * Gi, capacityBytes: 100 * Gi, inodesFree: 1000, inodes: 100000 },
    runtime: { imageFs: { availableBytes: 50 * Gi, capacityBytes: 100 * Gi } },
    rlimit: { maxpid: 4194304, curproc: 300 },
  },
};

describe('signalObservationsFromSummary', () => {
  it('derives every signal the summary has data for', () => {
    const o = signalObservationsFromSummary(summary);
    const text = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [String(v.available), String(v.capacity)]]));
    expect(text).toEqual({
      'memory.available': ['1Gi', '8Gi'],
      'allocatableMemory.available': ['512Mi', '6656Mi'],
      'nodefs.available': ['9Gi', '100Gi'],
      'nodefs.inodesFree': ['1k', '100k'],
      'imagefs.available': ['50Gi', '100Gi'],
      'pid.available': ['4194004', '4194304'],
    });
    expect(o['memory.available']?.time).toBe(Date.parse('2026-11-27T06:00:00Z') / 1000);
  });

  it('feeds thresholdsMet: the defaults flag nodefs (9Gi < 10% of 100Gi) and nodefs inodes (1k < 5%)', () => {
    const met = thresholdsMet(parseEvictionThresholds(), signalObservationsFromSummary(summary), false);
    expect(met.map((m) => m.threshold.signal)).toEqual(['nodefs.available', 'nodefs.inodesFree']);
  });
});

describe('podUsageFromStats', () => {
  const pod: V1Pod = {
    metadata: { name: 'p', uid: 'u' },
    spec: {
      containers: [{ name: 'app' }],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'ram', emptyDir: { medium: 'Memory' } },
        { name: 'host', hostPath: { path: '/var/log' } },
        { name: 'claim', persistentVolumeClaim: { claimName: 'c' } },
      ],
    },
  };

  it('counts local volumes only and sums container filesystems', () => {
    expect(localVolumeNames(pod)).toEqual(['scratch', 'host']);
    const usage = podUsageFromStats(pod, {
      podRef: { uid: 'u' },
      memory: { workingSetBytes: 300 * Mi },
      containers: [{ name: 'app', memory: { workingSetBytes: 290 * Mi }, rootfs: { usedBytes: 10 * Mi, inodesUsed: 7 }, logs: { usedBytes: 5 * Mi } }],
      volume: [
        { name: 'scratch', usedBytes: 100 * Mi },
        { name: 'ram', usedBytes: 999 * Mi },
        { name: 'host', usedBytes: 1 * Mi },
        { name: 'claim', usedBytes: 999 * Mi },
      ],
      process_stats: { process_count: 12 },
    });
    expect(usage).toMatchObject({
      memoryWorkingSetBytes: 300n * 1048576n,
      rootfsBytes: 10n * 1048576n,
      logsBytes: 5n * 1048576n,
      localVolumesBytes: 101n * 1048576n,
      rootfsInodes: 7n,
      processes: 12,
    });
    expect(rankPodsForEviction('memory.available', [{ pod, stats: usage }])).toEqual([pod]);
  });
});
