import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { match } from '../../fakes/journal/journal.js';
import { parseCriLogLine } from '../../fakes/cri/cri-log.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import { runContainer, startFakeRuntime, type FakeRuntimeFixture } from '../prober/handlers/test-fixtures.js';
import { InvalidInputError } from '../util/invalid-input.js';
import { ContainerLogManager, type ContainerLogManagerOptions } from './container-log-manager.js';

let fixture: FakeRuntimeFixture | undefined;
let manager: ContainerLogManager | undefined;
const dirs: string[] = [];
afterEach(async () => {
  manager?.stop();
  await fixture?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  fixture = undefined;
  manager = undefined;
});

/** Message lines of a CRI log file (gzipped or not). */
function entries(path: string): Array<{ ms: number; message: string }> {
  const data = path.endsWith('.gz') ? gunzipSync(readFileSync(path)) : readFileSync(path);
  return data
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const parsed = parseCriLogLine(line);
      if (!parsed) throw new Error(`not a CRI log line: ${line}`);
      return { ms: Date.parse(parsed.time), message: parsed.message };
    });
}

describe('the container log manager', () => {
  it('rotates a running container log past containerLogMaxSize through ReopenContainerLog, gzips older files and keeps containerLogMaxFiles', async () => {
    const clock = new VirtualClock();
    fixture = await startFakeRuntime(clock);
    const line = 'x'.repeat(100);
    const chatty = await runContainer(fixture, { pod: 'chatty', name: 'app', command: ['sh', '-c', `while true; do echo ${line}; sleep 1; done`] });
    const quiet = await runContainer(fixture, { pod: 'quiet', name: 'app', command: ['sh', '-c', 'echo hello; sleep 3600'] });
    manager = new ContainerLogManager({ clock, cri: fixture.cri, maxSize: '1Ki', maxFiles: 3 });
    const dir = join(fixture.logDir, 'chatty', 'app');
    const quietDir = join(fixture.logDir, 'quiet', 'app');
    const m = manager;
    const step = async (ms: number): Promise<void> => {
      await clock.advanceSettling(ms, () => m.idle());
      await m.idle();
    };

    m.start();
    await m.idle();
    expect(readdirSync(dir)).toEqual(['0.log']);
    await step(10_000);
    expect(readdirSync(dir).sort()).toEqual(['0.log', '0.log.20260101-000010']);
    const reopens = () => fixture!.fake.journal.entries(match('cri', 'ReopenContainerLog'));
    expect(reopens().map((e) => e.subject.containerId)).toEqual([chatty.containerId]);
    await step(10_000);
    expect(readdirSync(dir).sort()).toEqual(['0.log', '0.log.20260101-000010.gz', '0.log.20260101-000020']);
    await step(10_000);
    expect(readdirSync(dir).sort()).toEqual(['0.log', '0.log.20260101-000020.gz', '0.log.20260101-000030']);
    await step(5_000);

    // Every line is in exactly one file, in time order across files: nothing lost or doubled.
    const files = [join(dir, '0.log.20260101-000020.gz'), join(dir, '0.log.20260101-000030'), join(dir, '0.log')];
    const all = files.flatMap((f) => entries(f));
    const start = Date.UTC(2026, 0, 1);
    expect(all.every((e) => e.message === line)).toBe(true);
    expect(all.map((e) => (e.ms - start) / 1000)).toEqual(Array.from({ length: 25 }, (_, i) => 10 + i + 1));
    expect(entries(files[1]!).map((e) => (e.ms - start) / 1000)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(statSync(join(dir, '0.log')).size).toBeLessThan(1024);

    // The quiet container never reached the limit.
    expect(readdirSync(quietDir)).toEqual(['0.log']);
    expect(reopens().some((e) => e.subject.containerId === quiet.containerId)).toBe(false);

    // Clean removes the current and every rotated file of a container.
    await m.clean(chatty.containerId);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('renames the file back when ReopenContainerLog fails, and recovers a lost current file by reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-manager-'));
    dirs.push(dir);
    const path = join(dir, '0.log');
    writeFileSync(path, 'y'.repeat(2048));
    let failReopen = true;
    const calls: string[] = [];
    const cri: ContainerLogManagerOptions['cri'] = {
      listContainers: async () => ({ containers: [{ id: 'c1', state: 'CONTAINER_RUNNING' }] }) as never,
      containerStatus: async () => ({ status: { logPath: path } }) as never,
      reopenContainerLog: async () => {
        calls.push('reopen');
        if (failReopen) throw new Error('container is not running');
        writeFileSync(path, '');
        return {};
      },
    };
    const clock = new VirtualClock();
    manager = new ContainerLogManager({ clock, cri, maxSize: '1Ki', maxFiles: 2 });
    await manager.rotateLogs();
    expect(readdirSync(dir)).toEqual(['0.log']);
    expect(statSync(path).size).toBe(2048);

    failReopen = false;
    rmSync(path);
    await manager.rotateLogs();
    // The missing file was reopened (now empty, so below the limit): nothing rotated.
    expect(calls).toEqual(['reopen', 'reopen']);
    expect(readdirSync(dir)).toEqual(['0.log']);
  });

  it('rejects invalid settings naming the field, and turns rotation off for a negative size', () => {
    const base = { clock: new VirtualClock(), cri: {} as ContainerLogManagerOptions['cri'] };
    expect(() => new ContainerLogManager({ ...base, maxFiles: 1 })).toThrow(InvalidInputError);
    expect(() => new ContainerLogManager({ ...base, maxFiles: 1 })).toThrow('containerLogMaxFiles: must be an integer >= 2, got 1');
    expect(() => new ContainerLogManager({ ...base, maxSize: '10 megs' })).toThrow(/^containerLogMaxSize: "10 megs" is not a quantity/);
    expect(() => new ContainerLogManager({ ...base, maxWorkers: 0 })).toThrow('containerLogMaxWorkers');
    const off = new ContainerLogManager({ ...base, maxSize: '-1' });
    expect(off.enabled).toBe(false);
    expect(new ContainerLogManager(base).maxBytes).toBe(10n * 1024n * 1024n);
  });
});
