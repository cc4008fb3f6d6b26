import { chmod, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { Journal, JournalInput } from './journal.js';

export interface JournalSink {
  readonly socketPath: string;
  close(): Promise<void>;
}

/**
 * A unix-socket endpoint through which other processes (the CNI plugin, exec'd by a runtime)
 * append to the harness Journal. Protocol: one JSON JournalInput per line; each is appended, then
 * answered with `{"ok":true,"seq":N}` (or `{"ok":false,"error":...}`) on its own line. The socket
 * is 0600.
 */
export async function startJournalSink(options: { socketPath: string; journal: Journal }): Promise<JournalSink> {
  const { socketPath, journal } = options;
  await rm(socketPath, { force: true });
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        socket.write(`${JSON.stringify(appendLine(journal, line))}\n`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return {
    socketPath,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(socketPath, { force: true });
    },
  };
}

function appendLine(journal: Journal, line: string): { ok: true; seq: number } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const problem = checkInput(value);
  if (problem) return { ok: false, error: problem };
  return { ok: true, seq: journal.append(value as JournalInput).seq };
}

function checkInput(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'entry must be an object';
  const v = value as Record<string, unknown>;
  if (typeof v.source !== 'string' || v.source === '') return 'source: must be a non-empty string';
  if (v.kind !== 'rpc' && v.kind !== 'event') return 'kind: must be "rpc" or "event"';
  if (typeof v.name !== 'string' || v.name === '') return 'name: must be a non-empty string';
  if (v.subject !== undefined) {
    if (typeof v.subject !== 'object' || v.subject === null || Array.isArray(v.subject)) return 'subject: must be an object';
    for (const [k, s] of Object.entries(v.subject)) if (typeof s !== 'string') return `subject.${k}: must be a string`;
  }
  if (v.error !== undefined) {
    const e = v.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return 'error.message: must be a string';
  }
  for (const key of Object.keys(v)) {
    if (!['source', 'kind', 'name', 'subject', 'request', 'response', 'error'].includes(key)) return `${key}: unknown field`;
  }
  return undefined;
}
