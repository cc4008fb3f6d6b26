import { describe, expect, it } from 'vitest';
import { criStatsSummary, type CriStatsSnapshot } from './cri-stats-summary.js';
import { podUsageFromStats, signalObservationsFromSummary } from './observations.js';
import { Quantity } from '../resources/quantity.js';

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

  it('adds the measured container log directories and volume directories to each pod, counting a log directory once per container name', () => {
    const restarted = { ...snapshot, containers: [...snapshot.containers, { ...containerStats('a', 'app', 0n, 1n * Mi), attributes: { ...containerStats('a', 'app', 0n, 0n).attributes, id: 'a-app-old' } }] };
    const podDisk = new Map([
      ['uid-a', { volumes: [{ name: 'data', usedBytes: 3n * Mi, inodesUsed: 4n }, { name: 'token', usedBytes: 8192n, inodesUsed: 2n }], containerLogs: new Map([['app', { usedBytes: 2n * Mi, inodesUsed: 3n }]]) }],
    ]);
    const summary = criStatsSummary({ memoryCapacityBytes: 4n * Gi, nodefs: { capacityBytes: 100n * Gi } }, { ...restarted, podDisk } as CriStatsSnapshot);
    const a = summary.pods!.find((p) => p.podRef.uid === 'uid-a')!;
    const pod = { metadata: { uid: 'uid-a' }, spec: { containers: [], volumes: [{ name: 'data', emptyDir: {} }, { name: 'token', secret: { secretName: 's' } }] } };
    const usage = podUsageFromStats(pod, a);
    // Only the first 'app' instance carries the directory's 2 MiB; the secret is not a local ephemeral volume.
    expect(usage).toMatchObject({ rootfsBytes: 7n * Mi, logsBytes: 2n * Mi, logsInodes: 3n, localVolumesBytes: 3n * Mi, localVolumesInodes: 4n });
    expect(usage.containers.map((c) => [c.name, c.logsBytes])).toEqual([['app', 2n * Mi], ['side', 0n], ['app', 0n]]);
    // Every measured volume is listed for the emptyDir sizeLimit check.
    expect(usage.volumes).toEqual([{ name: 'data', usedBytes: 3n * Mi }, { name: 'token', usedBytes: 8192n }]);
    // On the declared machine those bytes fill nodefs too: 100 GiB − 2 GiB of images − 9 MiB of layers − 5 MiB + 8 KiB measured.
    const bytes = (o: ReturnType<typeof signalObservationsFromSummary>) => {
      const available = o['nodefs.available']!.available;
      return (typeof available === 'string' ? Quantity.parse(available) : available).value();
    };
    expect(bytes(signalObservationsFromSummary(summary))).toBe(100n * Gi - 2n * Gi - 9n * Mi - 5n * Mi - 8192n);
    const dedicated = criStatsSummary({ memoryCapacityBytes: 4n * Gi, nodefs: { capacityBytes: 10n * Gi }, imagefs: { capacityBytes: 20n * Gi } }, { ...restarted, podDisk } as CriStatsSnapshot);
    expect(bytes(signalObservationsFromSummary(dedicated))).toBe(10n * Gi - 5n * Mi - 8192n);
    const b = podUsageFromStats({ metadata: { uid: 'uid-b' }, spec: { containers: [] } }, summary.pods!.find((p) => p.podRef.uid === 'uid-b')!);
    expect(b).toMatchObject({ logsBytes: 0n, localVolumesBytes: 0n, volumes: [] });
  });
});
