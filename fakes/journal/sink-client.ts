import { connect } from 'node:net';

/** What an out-of-process writer (the CNI plugin) sends: a JournalInput as one JSON line. */
export interface SinkEntry {
  source: string;
  kind: 'rpc' | 'event';
  name: string;
  subject?: Record<string, string>;
  request?: unknown;
  response?: unknown;
  error?: { code: string | number; message: string };
}

/**
 * Sends one entry to a journal sink and resolves with its sequence number once the sink has
 * appended it, so whatever the caller does next is ordered after the entry.
 * (Plain TypeScript only: this also runs type-stripped inside the CNI plugin process.)
 */
export function sendToJournalSink(socketPath: string, entry: SinkEntry, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`journal sink ${socketPath} did not acknowledge within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (err: Error | undefined, seq?: number): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(seq as number);
    };
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(entry)}\n`));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      try {
        const ack = JSON.parse(buffer.slice(0, nl)) as { ok?: boolean; seq?: number; error?: string };
        if (ack.ok && typeof ack.seq === 'number') finish(undefined, ack.seq);
        else finish(new Error(`journal sink rejected the entry: ${ack.error ?? 'no reason'}`));
      } catch (err) {
        finish(new Error(`journal sink sent a malformed acknowledgement: ${(err as Error).message}`));
      }
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error('journal sink closed the connection before acknowledging')));
  });
}
