import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock/virtual-clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { newLogOptions, type PodLogOptions } from './pod-log-options.js';
import { readLogs } from './read-logs.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function logFile(lines: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'read-logs-'));
  dirs.push(dir);
  const path = join(dir, '0.log');
  writeFileSync(path, lines.join(''));
  return path;
}

const line = (sec: number, stream: 'stdout' | 'stderr', tag: 'F' | 'P', text: string): string =>
  `2026-01-01T00:00:${String(sec).padStart(2, '0')}Z ${stream} ${tag} ${text}\n`;

/** A runtime whose one container runs until told otherwise; counts the status calls. */
function runtime(): { cri: Pick<CriClient, 'containerStatus'>; stop(): void; calls: () => number } {
  let running = true;
  let calls = 0;
  const cri = {
    containerStatus: () => {
      calls++;
      return Promise.resolve({ status: { state: running ? 'CONTAINER_RUNNING' : 'CONTAINER_EXITED' }, info: {} });
    },
  } as unknown as Pick<CriClient, 'containerStatus'>;
  return { cri, stop: () => (running = false), calls: () => calls };
}

interface Reading {
  readonly text: () => string;
  readonly done: Promise<void>;
  readonly abort: AbortController;
}

function read(path: string, opts: PodLogOptions, clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 1, 0, 1) }), rt = runtime()): Reading {
  let out = '';
  const abort = new AbortController();
  const done = readLogs(path, 'c1', newLogOptions(opts, clock.now()), { clock, cri: rt.cri, signal: abort.signal }, (chunk) => {
    out += `${chunk.stream === 'stderr' ? '!' : ''}${chunk.data.toString()}`;
  });
  return { text: () => out, done, abort };
}

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('reading a container log file', () => {
  it('returns every entry with partial entries joined, stdout and stderr to their streams', async () => {
    const path = logFile([line(1, 'stdout', 'P', 'hel'), line(2, 'stderr', 'F', 'oops'), line(3, 'stdout', 'F', 'lo'), line(4, 'stdout', 'F', 'bye')]);
    const r = read(path, {});
    await r.done;
    expect(r.text()).toBe('hel!oops\nlo\nbye\n');
  });

  it('starts tailLines file lines from the end, and returns nothing for tailLines 0', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'a'), line(2, 'stdout', 'P', 'b-'), line(3, 'stdout', 'F', 'c'), line(4, 'stdout', 'F', 'd')]);
    const two = read(path, { tailLines: 2 });
    await two.done;
    expect(two.text()).toBe('c\nd\n');
    const zero = read(path, { tailLines: 0 });
    await zero.done;
    expect(zero.text()).toBe('');
  });

  it('applies limitBytes, sinceTime and timestamps while reading', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'early'), line(30, 'stdout', 'F', 'late'), line(40, 'stdout', 'F', 'later')]);
    const r = read(path, { sinceTime: '2026-01-01T00:00:20Z', timestamps: true, limitBytes: 40 });
    await r.done;
    expect(r.text()).toBe('2026-01-01T00:00:30.000000000Z late\n2026');
  });

  it('reads an unterminated last entry when not following', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'whole'), '2026-01-01T00:00:02Z stdout F cut']);
    const r = read(path, {});
    await r.done;
    expect(r.text()).toBe('whole\ncut');
  });

  it('reads only the current file, not the rotated ones, as the kubelet does', async () => {
    const path = logFile([line(5, 'stdout', 'F', 'current')]);
    writeFileSync(`${path}.20260101-000004`, line(4, 'stdout', 'F', 'rotated'));
    const r = read(path, {});
    await r.done;
    expect(r.text()).toBe('current\n');
  });

  it('follows a symlink to the log, skips lines it cannot parse, and rejects a file in an unknown format', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'one'), 'not a log line\n', line(2, 'stdout', 'F', 'two')]);
    const link = `${path}.link`;
    symlinkSync(path, link);
    const r = read(link, {});
    await r.done;
    expect(r.text()).toBe('one\ntwo\n');
    const bad = logFile(['plain text\n']);
    await expect(read(bad, {}).done).rejects.toThrow('failed to get parse function: unsupported log format: "plain text\\n"');
    await expect(read(join(bad, 'missing'), {}).done).rejects.toThrow(/^failed to try resolving symlinks in path ".*missing"/);
  });
});

describe('following a container log file', () => {
  it('delivers an entry written after the read started, and ends once the container is no longer running', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'before')]);
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 1, 0, 1) });
    const rt = runtime();
    const r = read(path, { follow: true }, clock, rt);
    await until('the existing entry', () => r.text() === 'before\n');
    appendFileSync(path, line(2, 'stdout', 'F', 'after'));
    await until('the new entry', () => r.text() === 'before\nafter\n');
    let ended = false;
    void r.done.then(() => (ended = true));
    rt.stop();
    // The next look (a file event or the one-second re-check on the clock) sees the container stopped.
    await until('a wait to begin', () => clock.pendingTimers() > 0);
    await clock.advance(1_000);
    await r.done;
    expect(ended).toBe(true);
    expect(r.text()).toBe('before\nafter\n');
  });

  it('waits on the clock between looks, not in a busy loop', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'x')]);
    const clock = new VirtualClock({ startWallMs: Date.UTC(2026, 0, 1, 0, 1) });
    const rt = runtime();
    const r = read(path, { follow: true }, clock, rt);
    await until('the wait', () => clock.pendingTimers() === 1);
    await new Promise((res) => setTimeout(res, 100));
    const before = rt.calls();
    expect(before).toBeLessThanOrEqual(2);
    await clock.advance(1_000);
    await until('the next look', () => rt.calls() === before + 1 && clock.pendingTimers() === 1);
    r.abort.abort();
    await r.done;
  });

  it('keeps following across a rotation: the renamed file to its end, then the new file', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'one')]);
    const r = read(path, { follow: true });
    await until('the first entry', () => r.text() === 'one\n');
    // The log manager renames the file; the runtime writes on into it until ReopenContainerLog.
    renameSync(path, `${path}.20260101-000002`);
    appendFileSync(`${path}.20260101-000002`, line(2, 'stdout', 'F', 'two'));
    writeFileSync(path, line(3, 'stdout', 'F', 'three'));
    await until('the entries of both files', () => r.text() === 'one\ntwo\nthree\n');
    appendFileSync(path, line(4, 'stdout', 'F', 'four'));
    await until('an entry of the new file', () => r.text() === 'one\ntwo\nthree\nfour\n');
    r.abort.abort();
    await r.done;
  });

  it('starts at the tail and follows from there, and an abort ends the read quietly', async () => {
    const path = logFile([line(1, 'stdout', 'F', 'a'), line(2, 'stdout', 'F', 'b')]);
    const r = read(path, { follow: true, tailLines: 1 });
    await until('the tail', () => r.text() === 'b\n');
    appendFileSync(path, line(3, 'stdout', 'P', 'c-'));
    appendFileSync(path, line(4, 'stdout', 'F', 'd'));
    await until('the joined line', () => r.text() === 'b\nc-d\n');
    r.abort.abort();
    await expect(r.done).resolves.toBeUndefined();
  });
});
