import type { V1ContainerState, V1ContainerStatus, V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerStatus__Output } from '../../proto/generated/cri/runtime/v1/ContainerStatus.js';
import { CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION, CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION } from './labels.js';

/**
 * Termination messages (upstream kuberuntime makeMounts, getTerminationMessage,
 * readLastStringFromContainerLogs, convertToKubeContainerStatus; status manager normalizeStatus).
 * Before a container is created the kubelet makes an empty host file under the pod directory and
 * mounts it at terminationMessagePath; once the container has exited it reads the file's tail into
 * state.terminated.message, or with FallbackToLogsOnError the tail of the container's log when the
 * file is empty and the container failed.
 */

/** The most of a termination message file the kubelet reads (its last bytes). */
export const MAX_CONTAINER_TERMINATION_MESSAGE_LENGTH = 4 * 1024;
/** The most of a log read as a termination message (its last bytes)... */
export const MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH = 2 * 1024;
/** ...out of at most this many last log lines. */
export const MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LINES = 80;
/** Budget of all termination messages of one pod, split evenly between its containers. */
export const MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH = 12 * 1024;

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** What the kubelet learns from an exited container's CRI status about where its message is. */
export interface TerminationMessageSource {
  /** The host file mounted at terminationMessagePath, or null when there is none. */
  readonly hostPath: string | null;
  /** Whether an empty or missing file sends the kubelet to the container's log. */
  readonly fallbackToLogs: boolean;
}

export interface ExitedContainerInfo {
  readonly exitCode: number;
  readonly reason: string;
  readonly terminationMessagePath: string;
  readonly terminationMessagePolicy: string;
  readonly mounts: ReadonlyArray<{ readonly containerPath: string; readonly hostPath: string }>;
}

export function terminationMessageSource(c: ExitedContainerInfo): TerminationMessageSource {
  // A container that could not even start has no logs worth reading.
  const fallbackToLogs = c.terminationMessagePolicy === 'FallbackToLogsOnError' && c.exitCode !== 0 && c.reason !== 'ContainerCannotRun';
  if (c.terminationMessagePath === '') return { hostPath: null, fallbackToLogs };
  const mount = c.mounts.find((m) => m.containerPath === c.terminationMessagePath);
  return { hostPath: mount ? mount.hostPath : null, fallbackToLogs };
}

/** The outcome of reading the host file. */
export type FileRead = { readonly kind: 'data'; readonly data: string } | { readonly kind: 'missing' } | { readonly kind: 'error'; readonly error: string };

/** The message the file gives, and whether the log must be read instead. */
export function messageFromFile(source: TerminationMessageSource, read: FileRead | null): { message: string; checkLogs: boolean } {
  if (source.hostPath === null || read === null || read.kind === 'missing') return { message: '', checkLogs: source.fallbackToLogs };
  if (read.kind === 'error') return { message: `Error on reading termination log ${source.hostPath}: ${read.error}`, checkLogs: false };
  return { message: read.data, checkLogs: source.fallbackToLogs && read.data.length === 0 };
}

/**
 * The text a termination message gets from a CRI-format log (`<time> <stream> <F|P> <content>` lines):
 * the content of the last MAX_..._LOG_LINES complete lines of both streams, a full line ending in a
 * newline and a partial one not, keeping the last MAX_..._LOG_LENGTH bytes. Malformed lines are skipped.
 */
export function lastLogText(criLog: string): string {
  const lines = criLog.split('\n');
  lines.pop(); // the text after the last newline is not a complete line
  const parts: string[] = [];
  for (const line of lines.slice(-MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LINES)) {
    const m = /^\S+ (?:stdout|stderr) ([^ ]*) (.*)$/s.exec(line);
    if (!m) continue;
    const partial = m[1]!.split(':')[0] === 'P';
    parts.push(partial ? m[2]! : `${m[2]!}\n`);
  }
  return tailBytes(parts.join(''), MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LENGTH);
}

/** The runtime's own message, then the container's, joined as upstream does. */
export function joinMessages(runtimeMessage: string, terminationMessage: string): string {
  if (terminationMessage === '') return runtimeMessage;
  return runtimeMessage === '' ? terminationMessage : `${runtimeMessage}: ${terminationMessage}`;
}

/**
 * The pod-wide budget (upstream normalizeStatus): every terminated message of every container status
 * is cut to MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH / (containers + init containers) bytes. Cuts fall on
 * a character boundary, where upstream cuts bytes and the JSON encoder then replaces a broken character.
 */
export function limitTerminationMessages(pod: V1Pod, status: V1PodStatus): V1PodStatus {
  const containers = (pod.spec?.containers?.length ?? 0) + (pod.spec?.initContainers?.length ?? 0);
  const budget = containers > 0 ? Math.floor(MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH / containers) : MAX_POD_TERMINATION_MESSAGE_LOG_LENGTH;
  const over = (s: V1ContainerState | undefined): boolean => Buffer.byteLength(s?.terminated?.message ?? '') > budget;
  const needsCut = (list: V1ContainerStatus[] | undefined): boolean => (list ?? []).some((c) => over(c.state) || over(c.lastState));
  if (!needsCut(status.containerStatuses) && !needsCut(status.initContainerStatuses) && !needsCut(status.ephemeralContainerStatuses)) {
    return status;
  }
  const cutState = (s: V1ContainerState | undefined): V1ContainerState | undefined =>
    s?.terminated?.message !== undefined && over(s) ? { ...s, terminated: { ...s.terminated, message: headBytes(s.terminated.message, budget) } } : s;
  const cut = (list: V1ContainerStatus[] | undefined): V1ContainerStatus[] | undefined =>
    list?.map((c) => {
      const state = cutState(c.state);
      const lastState = cutState(c.lastState);
      return state === c.state && lastState === c.lastState ? c : { ...c, ...(state ? { state } : {}), ...(lastState ? { lastState } : {}) };
    });
  const out: V1PodStatus = { ...status };
  if (status.containerStatuses) out.containerStatuses = cut(status.containerStatuses)!;
  if (status.initContainerStatuses) out.initContainerStatuses = cut(status.initContainerStatuses)!;
  if (status.ephemeralContainerStatuses) out.ephemeralContainerStatuses = cut(status.ephemeralContainerStatuses)!;
  return out;
}

/** The longest prefix of at most `max` UTF-8 bytes that ends on a character boundary. */
function headBytes(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= max) return text;
  let end = max;
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--; // back off a continuation byte
  return buf.subarray(0, end).toString('utf8');
}

/** The last `max` bytes (upstream's circular buffer keeps bytes; a cut character decodes as U+FFFD). */
function tailBytes(text: string, max: number): string {
  const buf = Buffer.from(text, 'utf8');
  return buf.length <= max ? text : buf.subarray(buf.length - max).toString('utf8');
}

// ---- I/O: the kubelet's side of the host files ----

/** upstream getPodContainerDir: <root>/pods/<uid>/containers/<name>. */
export function podContainerDir(rootDir: string, podUid: string, containerName: string): string {
  return join(rootDir, 'pods', podUid, 'containers', containerName);
}

/**
 * Creates the empty, world-writable host file for one container instance (a random name, so every
 * instance of the container gets its own) and returns its path.
 */
export async function createTerminationMessageFile(rootDir: string, podUid: string, containerName: string): Promise<string> {
  const dir = podContainerDir(rootDir, podUid, containerName);
  // Synchronous, as writeEtcHosts: an empty local file on a container's start path.
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const path = join(dir, randomBytes(4).toString('hex'));
  writeFileSync(path, '', { flag: 'wx' });
  // The container's user may be anyone; the mode must not depend on the kubelet's umask.
  chmodSync(path, 0o666);
  return path;
}

/** The last `max` bytes of a file (upstream tail.ReadAtMost). */
export async function readFileTail(path: string, max: number): Promise<FileRead> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { kind: 'missing' } : { kind: 'error', error: (e as Error).message };
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, size - length);
    return { kind: 'data', data: buf.subarray(0, bytesRead).toString('utf8') };
  } catch (e) {
    return { kind: 'error', error: (e as Error).message };
  } finally {
    await handle.close();
  }
}

/**
 * The end of a CRI log holding at least `lines` complete lines (read backwards in blocks, so a large
 * log costs what its tail costs).
 */
export async function readLogTail(path: string, lines: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const block = 16 * 1024;
    let start = size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    while (start > 0 && newlines <= lines) {
      const from = Math.max(0, start - block);
      const buf = Buffer.alloc(start - from);
      await handle.read(buf, 0, buf.length, from);
      for (const byte of buf) if (byte === 0x0a) newlines++;
      chunks.unshift(buf);
      start = from;
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The termination message of an exited container: from its host file, else (if asked for) its log. */
export async function readTerminationMessage(status: ContainerStatus__Output): Promise<string> {
  const source = terminationMessageSource({
    exitCode: status.exitCode,
    reason: status.reason,
    terminationMessagePath: status.annotations?.[CONTAINER_TERMINATION_MESSAGE_PATH_ANNOTATION] ?? '',
    terminationMessagePolicy: status.annotations?.[CONTAINER_TERMINATION_MESSAGE_POLICY_ANNOTATION] ?? '',
    mounts: status.mounts ?? [],
  });
  const read = source.hostPath === null ? null : await readFileTail(source.hostPath, MAX_CONTAINER_TERMINATION_MESSAGE_LENGTH);
  const fromFile = messageFromFile(source, read);
  if (!fromFile.checkLogs) return fromFile.message;
  try {
    return lastLogText(await readLogTail(status.logPath, MAX_CONTAINER_TERMINATION_MESSAGE_LOG_LINES));
  } catch (e) {
    return `Error on reading termination message from logs: ${(e as Error).message}`;
  }
}

/**
 * Adds termination messages to exited containers' CRI statuses. An exited container's message no
 * longer changes, so each is read once (per container id and finish time) and remembered, bounded.
 */
export class TerminationMessageReader {
  private readonly cache = new Map<string, { readonly finishedAt: string; readonly message: string }>();

  constructor(private readonly maxEntries = 4096) {}

  async enrich(status: ContainerStatus__Output): Promise<ContainerStatus__Output> {
    if (String(status.state) !== 'CONTAINER_EXITED') return status;
    const finishedAt = String(status.finishedAt);
    let message = this.cache.get(status.id);
    if (message?.finishedAt !== finishedAt) {
      message = { finishedAt, message: await readTerminationMessage(status) };
      this.cache.set(status.id, message);
      if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    return message.message === '' ? status : { ...status, message: joinMessages(status.message, message.message) };
  }

  /** Forgets a removed container. */
  forget(containerId: string): void {
    this.cache.delete(containerId);
  }
}
