import { describe, expect, it } from 'vitest';
import { criContainerState, relistDiff, type PlegState } from './relist-diff.js';

const snap = (pods: Record<string, Record<string, PlegState>>): Map<string, Map<string, PlegState>> =>
  new Map(Object.entries(pods).map(([uid, ids]) => [uid, new Map(Object.entries(ids))]));

describe('relistDiff', () => {
  it('reports starts, deaths and changes between two relists', () => {
    const before = snap({ p1: { a: 'running', b: 'unknown' } });
    const after = snap({ p1: { a: 'exited', b: 'running', c: 'unknown' } });
    expect(relistDiff(before, after)).toEqual([
      { podUid: 'p1', type: 'ContainerDied', id: 'a' },
      { podUid: 'p1', type: 'ContainerStarted', id: 'b' },
      { podUid: 'p1', type: 'ContainerChanged', id: 'c' },
    ]);
  });

  it('reports a running container that vanished as died then removed, an exited one as removed', () => {
    const before = snap({ p1: { a: 'running', b: 'exited' } });
    expect(relistDiff(before, snap({}))).toEqual([
      { podUid: 'p1', type: 'ContainerDied', id: 'a' },
      { podUid: 'p1', type: 'ContainerRemoved', id: 'a' },
      { podUid: 'p1', type: 'ContainerRemoved', id: 'b' },
    ]);
  });

  it('reports nothing when nothing changed and treats created as unknown', () => {
    const s = snap({ p1: { a: 'running' } });
    expect(relistDiff(s, s)).toEqual([]);
    expect(criContainerState('CONTAINER_CREATED')).toBe('unknown');
  });
});
