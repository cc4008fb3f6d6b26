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
