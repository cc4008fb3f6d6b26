import { describe, expect, it } from 'vitest';
import type { JournalEntry } from '../fakes/journal/journal.js';
import { answersByMethod, cpuCeiling, criExchanges, floorJobs, recordWrite, shareOut, type RecordedPodWrites } from './agent-wire-floor.js';

const entry = (seq: number, over: Partial<JournalEntry>): JournalEntry => ({ seq, t: seq, source: 'cri', kind: 'rpc', name: 'Version', subject: {}, ...over });

describe('the wire floor of a burst', () => {
  it('keeps the successful CRI calls of the journal with their requests and answers, in order', () => {
    const entries = [
      entry(1, { name: 'RunPodSandbox', request: { config: { hostname: 'a' } }, response: { podSandboxId: 's1' } }),
      entry(2, { name: 'CreateContainer', request: { podSandboxId: 's1' }, error: { code: 'Unavailable', message: 'down' } }),
      entry(3, { kind: 'event', name: 'ContainerExited', response: {} }),
      entry(4, { source: 'cni', name: 'ADD', request: {}, response: {} }),
      entry(5, { name: 'StartContainer', request: { containerId: 'c1' }, response: {} }),
      entry(6, { name: 'Version' }),
    ];
    expect(criExchanges(entries)).toEqual([
      { method: 'RunPodSandbox', request: { config: { hostname: 'a' } }, response: { podSandboxId: 's1' } },
      { method: 'StartContainer', request: { containerId: 'c1' }, response: {} },
    ]);
  });

  it('shares items out in consecutive slices whose sizes differ by at most one', () => {
    expect(shareOut([1, 2, 3, 4, 5, 6, 7], 3)).toEqual([[1, 2, 3], [4, 5], [6, 7]]);
    expect(shareOut([1, 2], 4)).toEqual([[1], [2], [], []]);
    expect(shareOut([], 2)).toEqual([[], []]);
    const sizes = shareOut(Array.from({ length: 1201 }, (_, i) => i), 200).map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBe(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1201);
    expect(() => shareOut([1], 0)).toThrow(/parts/);
  });

  it('records the status writes and new Events of the burst pods only', () => {
    const writes = new Map<string, RecordedPodWrites>();
    const pods = new Set(['p1', 'p2']);
    recordWrite(writes, pods, { resource: 'pods', type: 'ADDED', object: { metadata: { name: 'p1' }, status: { phase: 'Pending' } } });
    recordWrite(writes, pods, { resource: 'pods', type: 'MODIFIED', object: { metadata: { name: 'p1' }, status: { phase: 'Pending' } } });
    recordWrite(writes, pods, { resource: 'pods', type: 'MODIFIED', object: { metadata: { name: 'p1' }, status: { phase: 'Running' } } });
    recordWrite(writes, pods, { resource: 'pods', type: 'MODIFIED', object: { metadata: { name: 'other' }, status: { phase: 'Running' } } });
    recordWrite(writes, pods, {
      resource: 'events',
      type: 'ADDED',
      object: { involvedObject: { kind: 'Pod', name: 'p2', fieldPath: 'spec.containers{app}' }, type: 'Normal', reason: 'Started', message: 'Started container app' },
    });
    recordWrite(writes, pods, { resource: 'events', type: 'ADDED', object: { involvedObject: { kind: 'Node', name: 'p2' }, type: 'Normal', reason: 'NodeReady', message: '' } });
    recordWrite(writes, pods, { resource: 'leases', type: 'MODIFIED', object: { metadata: { name: 'p1' } } });
    expect(writes.get('p1')).toEqual({ statuses: [{ phase: 'Pending' }, { phase: 'Running' }], events: [] });
    expect(writes.get('p2')).toEqual({ statuses: [], events: [{ type: 'Normal', reason: 'Started', message: 'Started container app', fieldPath: 'spec.containers{app}' }] });
    expect(writes.has('other')).toBe(false);
  });

  it('gives each floor pod its burst pod writes and a share of the CRI calls', () => {
    const exchanges = ['A', 'B', 'C', 'D', 'E'].map((method) => ({ method, request: { m: method }, response: { r: method } }));
    const writes = new Map<string, RecordedPodWrites>([['b0', { statuses: [{ phase: 'Running' }], events: [{ type: 'Normal', reason: 'Pulled', message: 'm' }] }]]);
    const jobs = floorJobs(['b0', 'b1'], (i) => `f${i}`, exchanges, writes);
    expect(jobs).toEqual([
      { name: 'f0', calls: ['A', 'B', 'C'].map((m) => ({ method: m, request: { m } })), statuses: [{ phase: 'Running' }], events: [{ type: 'Normal', reason: 'Pulled', message: 'm' }] },
      { name: 'f1', calls: ['D', 'E'].map((m) => ({ method: m, request: { m } })), statuses: [], events: [] },
    ]);
    expect(answersByMethod([...exchanges, { method: 'A', request: {}, response: { r: 'A2' } }]).get('A')).toEqual([{ r: 'A' }, { r: 'A2' }]);
  });

  it('bounds pods per second by the busiest thread and by the whole process over the cores', () => {
    expect(cpuCeiling([5, 4], 14, 2)).toBeCloseTo(1000 / 7);
    expect(cpuCeiling([8, 1], 10, 2)).toBeCloseTo(125);
    expect(() => cpuCeiling([0], 1, 2)).toThrow(/positive/);
  });
});
