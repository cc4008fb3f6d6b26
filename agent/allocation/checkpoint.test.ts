import type { V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { container, pod } from '../kuberuntime/test-fixtures.js';
import { AllocationManager } from './allocation-manager.js';
import type { PodAllocation } from './allocation.js';
import {
  ALLOCATION_CHECKPOINT_FILE,
  CorruptCheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  FileAllocationStore,
  fnv1a32,
  type AllocationEntries,
  type AllocationStore,
} from './checkpoint.js';

const alloc = (entries: Record<string, V1ResourceRequirements>): PodAllocation => new Map(Object.entries(entries));

describe('allocation checkpoint encoding', () => {
  it('round-trips the allocations of every pod and container', () => {
    const entries = new Map([
      ['uid-a', alloc({ app: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } }, sidecar: {} })],
      ['uid-b', alloc({ web: { requests: { cpu: '1' } } })],
    ]);
    expect(decodeCheckpoint(encodeCheckpoint(entries))).toEqual(entries);
    expect(decodeCheckpoint(encodeCheckpoint(new Map()))).toEqual(new Map());
  });

  it('uses 32-bit FNV-1a over the data', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('refuses data whose checksum does not match, JSON that is not a checkpoint, and malformed entries', () => {
    const text = encodeCheckpoint(new Map([['uid-a', alloc({ app: { requests: { cpu: '100m' } } })]]));
    const tampered = text.replace('100m', '900m');
    expect(() => decodeCheckpoint(tampered)).toThrow(CorruptCheckpointError);
    expect(() => decodeCheckpoint(tampered)).toThrow(/checksum \d+ does not match the data's \d+/);
    expect(() => decodeCheckpoint('{"data": "{}"')).toThrow(/^not JSON/);
    expect(() => decodeCheckpoint('{"entries": {}}')).toThrow('expected {"data": string, "checksum": number}');
    const data = JSON.stringify({ allocationEntries: { 'uid-a': { app: 'lots' } } });
    expect(() => decodeCheckpoint(JSON.stringify({ data, checksum: fnv1a32(data) }))).toThrow('data.allocationEntries["uid-a"]["app"]: expected resource requirements');
  });
});

describe('the checkpoint file in the root dir', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alloc-ckpt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts empty when there is none, writing an empty checkpoint and saying so', () => {
    const logs: string[] = [];
    const store = new FileAllocationStore(dir, (m) => logs.push(m));
    expect(store.path).toBe(join(dir, ALLOCATION_CHECKPOINT_FILE));
    expect(store.load()).toEqual(new Map());
    expect(decodeCheckpoint(readFileSync(store.path, 'utf8'))).toEqual(new Map());
    expect(logs).toEqual([`allocation checkpoint ${store.path} not found: starting with no allocations`]);
  });

  it('saves with mode 0600 by renaming over the old file, and loads what was saved', () => {
    const store = new FileAllocationStore(dir);
    const entries = new Map([['uid-a', alloc({ app: { requests: { cpu: '250m' } } })]]);
    store.save(entries);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    expect(existsSync(`${store.path}.tmp`)).toBe(false);
    expect(new FileAllocationStore(dir).load()).toEqual(entries);
  });

  it('refuses to start from a corrupt checkpoint, naming the file and what to do, as upstream', () => {
    const store = new FileAllocationStore(dir);
    store.save(new Map([['uid-a', alloc({ app: { requests: { cpu: '250m' } } })]]));
    writeFileSync(store.path, readFileSync(store.path, 'utf8').replace('250m', '999m'));
    expect(() => new FileAllocationStore(dir).load()).toThrow(
      new RegExp(`^could not restore state from checkpoint: checkpoint is corrupted: .*please drain this node and delete pod allocation checkpoint file "${store.path}"`),
    );
  });
});

class MemoryStore implements AllocationStore {
  saves: Array<Map<string, PodAllocation>> = [];
  constructor(private readonly initial = new Map<string, PodAllocation>()) {}
  load(): Map<string, PodAllocation> {
    return new Map(this.initial);
  }
  save(entries: AllocationEntries): void {
    this.saves.push(new Map(entries));
  }
}

function withCpu(uid: string, cpu: string, generation = 1): V1Pod {
  return pod({ containers: [container('app', { resources: { requests: { cpu } } })] }, { uid, name: uid, generation });
}

function manager(store: AllocationStore) {
  const pods = new Map<string, V1Pod>();
  const m = new AllocationManager({
    clock: new VirtualClock(),
    recorder: new MemoryEventRecorder(),
    allocatable: () => ({ cpu: '4', memory: '8Gi', pods: '110' }),
    activePods: () => [...pods.values()],
    podByUid: (uid) => pods.get(uid),
    triggerSync: () => undefined,
    store,
  });
  return { m, pods };
}

describe('AllocationManager with a checkpoint', () => {
  it('starts from the saved allocations: a restarted manager keeps a pending resize pending', () => {
    const store = new MemoryStore(new Map([['a', alloc({ app: { requests: { cpu: '100m' } } })]]));
    const { m, pods } = manager(store);
    const resized = withCpu('a', '10', 2);
    pods.set('a', resized);
    m.addPod(resized);
    expect(m.allocation('a')?.get('app')).toEqual({ requests: { cpu: '100m' } });
    expect(m.resizeRequested(resized)).toBe(true);
    expect(m.allocatedPod(resized).spec?.containers[0]?.resources).toEqual({ requests: { cpu: '100m' } });
    expect(m.handlePodUpdate(resized)).toBe(false);
    expect(m.conditions('a')).toMatchObject([{ type: 'PodResizePending', reason: 'Infeasible' }]);
  });

  it('writes admissions of one job together, once the job ends', async () => {
    const store = new MemoryStore();
    const { m } = manager(store);
    for (const uid of ['a', 'b', 'c']) m.addPod(withCpu(uid, '100m'));
    expect(store.saves).toHaveLength(0);
    await Promise.resolve();
    expect(store.saves).toHaveLength(1);
    expect([...store.saves[0]!.keys()]).toEqual(['a', 'b', 'c']);
  });

  it('writes an allocated resize before answering, and never a resize that is only pending', async () => {
    const store = new MemoryStore();
    const { m, pods } = manager(store);
    m.addPod(withCpu('a', '100m'));
    await Promise.resolve();
    const pending = withCpu('a', '10', 2);
    pods.set('a', pending);
    m.handlePodUpdate(pending);
    await Promise.resolve();
    expect(store.saves).toHaveLength(1);
    const fits = withCpu('a', '500m', 3);
    pods.set('a', fits);
    expect(m.handlePodUpdate(fits)).toBe(true);
    expect(store.saves).toHaveLength(2);
    expect(store.saves[1]!.get('a')?.get('app')).toEqual({ requests: { cpu: '500m' } });
  });

  it('drops removed pods and orphans restored from the checkpoint', async () => {
    const store = new MemoryStore(new Map([['gone', alloc({ app: {} })], ['kept', alloc({ app: {} })]]));
    const { m } = manager(store);
    m.removeOrphans(new Set(['kept']));
    await Promise.resolve();
    expect([...store.saves.at(-1)!.keys()]).toEqual(['kept']);
    m.removePod('kept');
    await Promise.resolve();
    expect(store.saves.at(-1)).toEqual(new Map());
  });
});
