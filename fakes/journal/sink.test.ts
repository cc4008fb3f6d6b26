import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal, match } from './journal.js';
import { sendToJournalSink } from './sink-client.js';
import { startJournalSink, type JournalSink } from './sink.js';

let dir: string;
let sink: JournalSink;
let journal: Journal;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kh-sink-'));
  journal = new Journal();
  sink = await startJournalSink({ socketPath: join(dir, 'j.sock'), journal });
});
afterEach(async () => {
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

function rawExchange(lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(sink.socketPath);
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      out += d;
      if (out.split('\n').length > lines.split('\n').filter(Boolean).length) socket.end();
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
    socket.write(lines);
  });
}

describe('journal sink', () => {
  it('appends entries from another connection and acknowledges them with their sequence number', async () => {
    journal.append({ source: 'cri', kind: 'rpc', name: 'RunPodSandbox' });
    const seq = await sendToJournalSink(sink.socketPath, { source: 'cni', kind: 'rpc', name: 'ADD', subject: { podSandboxId: 's1' } });
    expect(seq).toBe(2);
    expect(journal.last(match('cni', 'ADD', { podSandboxId: 's1' }))?.seq).toBe(2);
  });

  it('is a 0600 socket', async () => {
    expect((await stat(sink.socketPath)).mode & 0o777).toBe(0o600);
  });

  it('rejects malformed entries naming the field and keeps serving the connection', async () => {
    const answer = await rawExchange(
      ['not json', '{"source":"cni","kind":"call","name":"ADD"}', '{"source":"cni","kind":"rpc","name":"ADD","subject":{"n":1}}', '{"source":"cni","kind":"event","name":"X"}', ''].join('\n'),
    );
    expect(answer.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { ok: false, error: 'not JSON' },
      { ok: false, error: 'kind: must be "rpc" or "event"' },
      { ok: false, error: 'subject.n: must be a string' },
      { ok: true, seq: 1 },
    ]);
    expect(journal.size).toBe(1);
  });

  it('makes the client fail when nothing listens', async () => {
    await expect(sendToJournalSink(join(dir, 'none.sock'), { source: 'cni', kind: 'rpc', name: 'ADD' })).rejects.toThrow();
  });
});
