import { describe, expect, it } from 'vitest';
import { criStatsSummary, type CriStatsSnapshot } from './cri-stats-summary.js';
import { podUsageFromStats, signalObservationsFromSummary } from './observations.js';

const Mi = 1024n * 1024n;
const Gi = 1024n * Mi;

function containerStats(pod: string, name: string, memory: bigint, rootfs: bigint) {
  return {
    attributes: { id: `${pod}-${name}`, metadata: { name, attempt: 0 }, labels: { 'io.kubernetes.pod.uid': `uid-${pod}` }, annotations: {} },
    cpu: null,
    memory: { timestamp: '0', workingSetBytes: { value: String(memory) }, availableBytes: null, usageBytes: null, rssBytes: null, pageFaults: null, majorPageFaults: null },
    writableLayer: { timestamp: '0', fsId: null, usedBytes: { value: String(rootfs) }, inodesUsed: { value: '10' } },
    swap: null,
    io: null,
  };
}

function sandboxStats(pod: string, memory: bigint, processes: number) {
  return {
    attributes: { id: `sb-${pod}`, metadata: { name: pod, uid: `uid-${pod}`, namespace: 'default', attempt: 0 }, labels: {}, annotations: {} },
    linux: {
      cpu: null,
      memory: { timestamp: '0', workingSetBytes: { value: String(memory) }, availableBytes: null, usageBytes: null, rssBytes: null, pageFaults: null, majorPageFaults: null },
      network: null,
      process: { timestamp: '0', processCount: { value: String(processes) } },
      containers: [],
      io: null,
    },
    windows: null,
  };
}

const snapshot = {
  sandboxes: [sandboxStats('a', 300n * Mi, 3), sandboxStats('b', 100n * Mi, 1)],
  containers: [containerStats('a', 'app', 250n * Mi, 5n * Mi), containerStats('a', 'side', 50n * Mi, 1n * Mi), containerStats('b', 'app', 100n * Mi, 2n * Mi)],
  imageFs: { imageFilesystems: [{ timestamp: '0', fsId: null, usedBytes: { value: String(2n * Gi) }, inodesUsed: { value: '500' } }], containerFilesystems: [] },
  time: 1000,
} as unknown as CriStatsSnapshot;

function text(o: ReturnType<typeof signalObservationsFromSummary>): Record<string, [string, string]> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [String(v.available), String(v.capacity)]]));
}

describe('criStatsSummary', () => {
  it('puts pods, images and writable layers on one filesystem when the machine has no dedicated imagefs', () => {
    const summary = criStatsSummary(
      { memoryCapacityBytes: 4n * Gi, systemMemoryWorkingSetBytes: 600n * Mi, podsMemoryLimitBytes: 3n * Gi, nodefs: { capacityBytes: 100n * Gi, usedBytes: 10n * Gi, inodes: 100_000n, inodesUsed: 1000n }, maxPid: 32768, systemProcesses: 200 },
      snapshot,
    );
    expect(text(signalObservationsFromSummary(summary))).toEqual({
      // 4096 − (600 + 300 + 100) MiB available; capacity = available + working set.
      'memory.available': ['3096Mi', '4Gi'],
      'allocatableMemory.available': ['2672Mi', '3Gi'],
      // 100 GiB − 10 GiB − 2 GiB of images − 8 MiB of writable layers.
      'nodefs.available': ['90104Mi', '100Gi'],
      'nodefs.inodesFree': ['98470', '100k'],
      'imagefs.available': ['90104Mi', '100Gi'],
      'imagefs.inodesFree': ['98470', '100k'],
      'containerfs.available': ['90104Mi', '100Gi'],
      'containerfs.inodesFree': ['98470', '100k'],
      'pid.available': ['32564', '32768'],
    });
    const a = summary.pods!.find((p) => p.podRef.uid === 'uid-a')!;
    const usage = podUsageFromStats({ metadata: { uid: 'uid-a' }, spec: { containers: [] } }, a);
    expect(usage).toMatchObject({ memoryWorkingSetBytes: 300n * Mi, rootfsBytes: 6n * Mi, logsBytes: 0n, processes: 3 });
    expect(usage.containers.map((c) => [c.name, c.memoryWorkingSetBytes])).toEqual([
      ['app', 250n * Mi],
      ['side', 50n * Mi],
    ]);
  });

  it('keeps images and writable layers off nodefs when the machine declares a dedicated imagefs', () => {
    const summary = criStatsSummary({ memoryCapacityBytes: 4n * Gi, nodefs: { capacityBytes: 50n * Gi, usedBytes: 5n * Gi }, imagefs: { capacityBytes: 20n * Gi } }, snapshot);
    const o = text(signalObservationsFromSummary(summary));
    expect(o['nodefs.available']).toEqual(['45Gi', '50Gi']);
    expect(o['imagefs.available']).toEqual(['18424Mi', '20Gi']);
    expect(o['containerfs.available']).toEqual(['18424Mi', '20Gi']);
    expect(o['allocatableMemory.available']).toBeUndefined();
    expect(o['pid.available']).toBeUndefined();
    expect(o['nodefs.inodesFree']).toBeUndefined();
  });
});
