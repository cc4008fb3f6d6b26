import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { assertHappensBefore, OrderViolation, step } from './happens-before.js';
import { Journal, journalJsonLine, match } from './journal.js';

describe('Journal', () => {
  it('numbers entries in append order across sources and stamps them with the shared clock', async () => {
    const clock = new VirtualClock();
    const journal = new Journal(clock);
    journal.append({ source: 'csi', kind: 'rpc', name: 'NodePublishVolume', subject: { volumeId: 'v1' } });
    await clock.advance(5);
    journal.append({ source: 'cri', kind: 'rpc', name: 'RunPodSandbox' });
    expect(journal.entries().map((e) => [e.seq, e.t, e.name])).toEqual([
      [1, 0, 'NodePublishVolume'],
      [2, 5, 'RunPodSandbox'],
    ]);
    expect(journal.entries(match('csi', 'NodePublishVolume', { volumeId: 'v1' }))).toHaveLength(1);
  });

  it('exports JSON lines that parse back to the entries', () => {
    const journal = new Journal();
    journal.append({ source: 'cri', kind: 'rpc', name: 'Version', response: { runtimeName: 'fake' } });
    journal.append({ source: 'cni', kind: 'rpc', name: 'ADD', error: { code: 7, message: 'boom' } });
    const lines = journal.toJsonLines().split('\n').map((l) => JSON.parse(l) as { name: string });
    expect(lines.map((l) => l.name)).toEqual(['Version', 'ADD']);
  });

  it('writes one entry as a JSON line with bigints as decimal text and byte buffers as their length', () => {
    const journal = new Journal();
    const entry = journal.append({ source: 'cri', kind: 'rpc', name: 'ExecSync', response: { stdout: new Uint8Array(3), size: 10n ** 20n } });
    const line = journalJsonLine(entry);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ name: 'ExecSync', response: { stdout: { bytes: 3 }, size: '100000000000000000000' } });
    expect(journal.toJsonLines()).toBe(line);
  });

  it('resolves waitFor with an entry appended later', async () => {
    const journal = new Journal();
    const waiting = journal.waitFor(match('cri', 'StartContainer'));
    journal.append({ source: 'cri', kind: 'rpc', name: 'CreateContainer' });
    journal.append({ source: 'cri', kind: 'rpc', name: 'StartContainer' });
    await expect(waiting).resolves.toMatchObject({ seq: 2 });
  });

  it('keeps only the newest `retain` entries while sequence numbers keep counting', () => {
    const journal = new Journal(undefined, { retain: 3 });
    for (let i = 1; i <= 10; i++) journal.append({ source: 'cri', kind: 'rpc', name: `Call${i}` });
    expect(journal.entries().map((e) => [e.seq, e.name])).toEqual([
      [8, 'Call8'],
      [9, 'Call9'],
      [10, 'Call10'],
    ]);
    expect(journal.size).toBe(10);
    expect(journal.dropped).toBe(7);
    expect(journal.first(() => true)?.seq).toBe(8);
    expect(journal.last((e) => e.name === 'Call9')?.seq).toBe(9);
    expect(journal.first((e) => e.name === 'Call2')).toBeUndefined();
  });

  it('serves seq bookmarks across dropped entries', () => {
    const journal = new Journal(undefined, { retain: 2 });
    journal.append({ source: 'cri', kind: 'rpc', name: 'Before' });
    const mark = journal.size;
    for (let i = 0; i < 5; i++) journal.append({ source: 'cri', kind: 'rpc', name: 'After' });
    expect(journal.entries((e) => e.seq > mark).map((e) => e.seq)).toEqual([5, 6]);
  });

  it('keeps every entry by default', () => {
    const journal = new Journal();
    for (let i = 0; i < 1_000; i++) journal.append({ source: 'cri', kind: 'rpc', name: 'Call' });
    expect(journal.entries()).toHaveLength(1_000);
    expect(journal.dropped).toBe(0);
  });

  it('refuses a retain bound that is not a positive integer, naming it', () => {
    expect(() => new Journal(undefined, { retain: 0 })).toThrow(/retain must be a positive integer/);
    expect(() => new Journal(undefined, { retain: 2.5 })).toThrow(/got 2.5/);
  });
});

describe('assertHappensBefore', () => {
  it('passes when every entry of each step precedes every entry of the next', () => {
    const journal = new Journal();
    for (const name of ['PullImage', 'RunPodSandbox', 'CreateContainer', 'CreateContainer']) {
      journal.append({ source: 'cri', kind: 'rpc', name });
    }
    const firsts = assertHappensBefore(journal, [
      step('image pulled', match('cri', 'PullImage')),
      step('sandbox', match('cri', 'RunPodSandbox')),
      step('containers', match('cri', 'CreateContainer')),
    ]);
    expect(firsts.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('names both steps when an entry of a later step came first', () => {
    const journal = new Journal();
    journal.append({ source: 'cri', kind: 'rpc', name: 'CreateContainer' });
    journal.append({ source: 'cri', kind: 'rpc', name: 'RunPodSandbox' });
    expect(() =>
      assertHappensBefore(journal, [
        step('sandbox', match('cri', 'RunPodSandbox')),
        step('containers', match('cri', 'CreateContainer')),
      ]),
    ).toThrow(/"sandbox" \(seq 2.*did not happen before "containers" \(seq 1/);
  });

  it('fails when a step never happened', () => {
    const journal = new Journal();
    expect(() => assertHappensBefore(journal, [step('volume published', match('csi', 'NodePublishVolume'))])).toThrow(
      OrderViolation,
    );
  });
});
