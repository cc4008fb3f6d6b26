import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerStatus__Output } from '../../proto/generated/cri/runtime/v1/ContainerStatus.js';
import { CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION, CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION } from './labels.js';
import {
  TerminationMessageReader,
  createTerminationMessageFile,
  joinMessages,
  lastLogText,
  limitTerminationMessages,
  messageFromFile,
  podContainerDir,
  readFileTail,
  terminationMessageSource,
  type ExitedContainerInfo,
} from './termination-message.js';
import { container, pod } from './test-fixtures.js';

const exited: ExitedContainerInfo = {
  exitCode: 3,
  reason: 'Error',
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  mounts: [
    { containerPath: '/data', hostPath: '/var/lib/kubelet/pods/u/volumes/x' },
    { containerPath: '/dev/termination-log', hostPath: '/var/lib/kubelet/pods/u/containers/app/0badcafe' },
  ],
};

describe('terminationMessageSource', () => {
  it('finds the host file mounted at the termination message path', () => {
    expect(terminationMessageSource(exited)).toEqual({ hostPath: '/var/lib/kubelet/pods/u/containers/app/0badcafe', fallbackToLogs: false });
  });

  it('falls back to logs only for FallbackToLogsOnError, a non-zero exit, and a container that could run', () => {
    const policy = { ...exited, terminationMessagePolicy: 'FallbackToLogsOnError' };
    expect(terminationMessageSource(policy).fallbackToLogs).toBe(true);
    expect(terminationMessageSource({ ...policy, exitCode: 0 }).fallbackToLogs).toBe(false);
    expect(terminationMessageSource({ ...policy, reason: 'ContainerCannotRun' }).fallbackToLogs).toBe(false);
  });

  it('has no file when the path is empty or nothing is mounted there', () => {
    expect(terminationMessageSource({ ...exited, terminationMessagePath: '' }).hostPath).toBeNull();
    expect(terminationMessageSource({ ...exited, terminationMessagePath: '/tmp/msg' }).hostPath).toBeNull();
  });
});

describe('messageFromFile', () => {
  const file = terminationMessageSource(exited);
  const fallback = terminationMessageSource({ ...exited, terminationMessagePolicy: 'FallbackToLogsOnError' });

  it('takes what the container wrote', () => {
    expect(messageFromFile(file, { kind: 'data', data: 'bye\n' })).toEqual({ message: 'bye\n', checkLogs: false });
  });

  it('reads the log instead when the file is empty or missing and the policy asks for it', () => {
    expect(messageFromFile(fallback, { kind: 'data', data: '' })).toEqual({ message: '', checkLogs: true });
    expect(messageFromFile(fallback, { kind: 'missing' })).toEqual({ message: '', checkLogs: true });
    expect(messageFromFile(fallback, { kind: 'data', data: 'written' })).toEqual({ message: 'written', checkLogs: false });
    expect(messageFromFile(file, { kind: 'data', data: '' })).toEqual({ message: '', checkLogs: false });
  });

  it('reports a file that cannot be read, naming it', () => {
    expect(messageFromFile(fallback, { kind: 'error', error: 'EACCES' })).toEqual({
      message: 'Error on reading termination log /var/lib/kubelet/pods/u/containers/app/0badcafe: EACCES',
      checkLogs: false,
    });
  });
});

describe('lastLogText', () => {
  const line = (stream: string, tag: string, text: string) => `2026-11-27T09:00:00.000000000Z ${stream} ${tag} ${text}\n`;

  it('joins both streams, full lines ending in a newline and partial lines continued', () => {
    const log = line('stdout', 'F', 'starting') + line('stderr', 'P', 'fatal: ') + line('stderr', 'F', 'disk full');
    expect(lastLogText(log)).toBe('starting\nfatal: disk full\n');
  });

  it('keeps the last 80 lines and, of those, the last 2048 bytes', () => {
    const many = Array.from({ length: 100 }, (_, i) => line('stdout', 'F', `line ${i}`)).join('');
    const text = lastLogText(many);
    expect(text.startsWith('line 20\n')).toBe(true);
    expect(text.endsWith('line 99\n')).toBe(true);
    const long = Array.from({ length: 10 }, (_, i) => line('stdout', 'F', `${i}`.repeat(500))).join('');
    const cut = lastLogText(long);
    expect(Buffer.byteLength(cut)).toBe(2048);
    expect(cut.endsWith(`${'9'.repeat(500)}\n`)).toBe(true);
  });

  it('skips malformed lines and an incomplete last line', () => {
    expect(lastLogText(`garbage\n${line('stdout', 'F', 'ok')}2026-11-27T09:00:00Z stdout F unfinished`)).toBe('ok\n');
  });
});

describe('joinMessages', () => {
  it('appends the container message to the runtime message after a colon', () => {
    expect(joinMessages('', 'bye')).toBe('bye');
    expect(joinMessages('OOMKilled', '')).toBe('OOMKilled');
    expect(joinMessages('runtime says', 'bye')).toBe('runtime says: bye');
  });
});

describe('limitTerminationMessages', () => {
  const terminated = (message: string) => ({ terminated: { exitCode: 1, message } });

  it('splits 12 KiB evenly between the containers and init containers of the pod', () => {
    const p = pod({ containers: [container('a'), container('b')], initContainers: [container('i')] });
    const status = limitTerminationMessages(p, {
      containerStatuses: [
        { name: 'a', image: '', imageID: '', ready: false, restartCount: 0, state: terminated('x'.repeat(5000)), lastState: terminated('y'.repeat(4096)) },
        { name: 'b', image: '', imageID: '', ready: false, restartCount: 0, state: terminated('short') },
      ],
      initContainerStatuses: [{ name: 'i', image: '', imageID: '', ready: false, restartCount: 0, state: terminated('z'.repeat(4097)) }],
    });
    expect(status.containerStatuses?.[0]?.state?.terminated?.message).toBe('x'.repeat(4096));
    expect(status.containerStatuses?.[0]?.lastState?.terminated?.message).toBe('y'.repeat(4096));
    expect(status.containerStatuses?.[1]?.state?.terminated?.message).toBe('short');
    expect(status.initContainerStatuses?.[0]?.state?.terminated?.message).toBe('z'.repeat(4096));
  });

  it('returns the status itself when every message fits, and never cuts inside a character', () => {
    const p = pod({ containers: Array.from({ length: 4 }, (_, i) => container(`c${i}`)) });
    const fits = { containerStatuses: [{ name: 'c0', image: '', imageID: '', ready: false, restartCount: 0, state: terminated('ok') }] };
    expect(limitTerminationMessages(p, fits)).toBe(fits);
    const euro = '€'.repeat(1100); // 3 bytes each, 3300 bytes; the budget is 3072
    const cut = limitTerminationMessages(p, { containerStatuses: [{ ...fits.containerStatuses[0]!, state: terminated(euro) }] });
    expect(cut.containerStatuses?.[0]?.state?.terminated?.message).toBe('€'.repeat(1024));
  });
});

describe('termination message files', () => {
  let root: string | undefined;
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  it('creates one empty world-writable file per container instance under pods/<uid>/containers/<name>', async () => {
    root = mkdtempSync(join(tmpdir(), 'termination-'));
    const a = await createTerminationMessageFile(root, 'uid-1', 'app');
    const b = await createTerminationMessageFile(root, 'uid-1', 'app');
    expect(a).not.toBe(b);
    expect(readdirSync(podContainerDir(root, 'uid-1', 'app')).sort()).toEqual([a, b].map((p) => p.split('/').at(-1)).sort());
    expect(statSync(a).size).toBe(0);
    expect(statSync(a).mode & 0o777).toBe(0o666);
    expect(a.split('/').at(-1)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('reads at most the last 4096 bytes of the file, and tells a missing file apart', async () => {
    root = mkdtempSync(join(tmpdir(), 'termination-'));
    const path = join(root, 'msg');
    writeFileSync(path, `${'a'.repeat(100)}${'b'.repeat(4096)}`);
    expect(await readFileTail(path, 4096)).toEqual({ kind: 'data', data: 'b'.repeat(4096) });
    expect(await readFileTail(join(root, 'none'), 4096)).toEqual({ kind: 'missing' });
  });

  it('adds the message to an exited container status once and remembers it', async () => {
    root = mkdtempSync(join(tmpdir(), 'termination-'));
    const path = await createTerminationMessageFile(root, 'uid-1', 'app');
    writeFileSync(path, 'bye\n');
    const status = {
      id: 'c1',
      state: 'CONTAINER_EXITED',
      exitCode: 3,
      reason: 'Error',
      message: '',
      finishedAt: '5',
      logPath: join(root, 'missing.log'),
      annotations: { [CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION]: '/dev/termination-log', [CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION]: 'File' },
      mounts: [{ containerPath: '/dev/termination-log', hostPath: path }],
    } as unknown as ContainerStatus__Output;
    const reader = new TerminationMessageReader();
    expect((await reader.enrich(status)).message).toBe('bye\n');
    writeFileSync(path, 'changed');
    expect((await reader.enrich(status)).message).toBe('bye\n');
    reader.forget('c1');
    expect((await reader.enrich(status)).message).toBe('changed');
    const running = { ...status, state: 'CONTAINER_RUNNING' } as unknown as ContainerStatus__Output;
    expect(await reader.enrich(running)).toBe(running);
  });

  it('reads the log tail for FallbackToLogsOnError and reports a log that cannot be read', async () => {
    root = mkdtempSync(join(tmpdir(), 'termination-'));
    const path = await createTerminationMessageFile(root, 'uid-1', 'app');
    const logPath = join(root, '0.log');
    writeFileSync(logPath, Array.from({ length: 2000 }, (_, i) => `2026-11-27T09:00:00Z stdout F row ${i}\n`).join(''));
    const status = {
      id: 'c2',
      state: 'CONTAINER_EXITED',
      exitCode: 1,
      reason: 'Error',
      message: '',
      finishedAt: '5',
      logPath,
      annotations: { [CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION]: '/dev/termination-log', [CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION]: 'FallbackToLogsOnError' },
      mounts: [{ containerPath: '/dev/termination-log', hostPath: path }],
    } as unknown as ContainerStatus__Output;
    const message = (await new TerminationMessageReader().enrich(status)).message;
    expect(message.startsWith('row 1920\n')).toBe(true);
    expect(message.endsWith('row 1999\n')).toBe(true);
    const lost = (await new TerminationMessageReader().enrich({ ...status, logPath: join(root, 'gone.log') })).message;
    expect(lost).toMatch(/^Error on reading termination message from logs: .*ENOENT/);
  });
});
