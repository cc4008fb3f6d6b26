import type { WatchSink } from './watch.js';

/**
 * A watch's byte stream: NDJSON lines from a WatchSession into a ReadableStream the HTTP layer
 * drains with backpressure. Lines produced in the same event-loop turn go out as one chunk (one write
 * per watcher per turn rather than per event, which matters with many watchers). A consumer that
 * falls more than `maxPendingBytes` behind gets its stream ended (kube-apiserver likewise drops
 * watchers that cannot keep up; the client resumes from its last resourceVersion).
 */
export interface WatchStream {
  readonly sink: WatchSink;
  readonly body: ReadableStream<Uint8Array>;
  /** Aborts the stream mid-flight: the HTTP layer destroys the connection without a final chunk. */
  fail(reason: Error): void;
}

function toBuffer(chunk: string | Buffer): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

export function createWatchStream(onCancel: () => void, maxPendingBytes = 16 * 1024 * 1024): WatchStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending: Array<string | Buffer> = [];
  let pendingBytes = 0;
  let scheduled = false;
  let ended = false;
  let finished = false;

  const flush = (): void => {
    scheduled = false;
    if (finished) return;
    try {
      if (pending.length > 0 && (controller.desiredSize ?? 0) > 0) {
        const chunk = pending.length === 1 ? toBuffer(pending[0] as string | Buffer) : Buffer.concat(pending.map(toBuffer), pendingBytes);
        pending = [];
        pendingBytes = 0;
        controller.enqueue(chunk);
      }
      if (ended && pending.length === 0) {
        finished = true;
        controller.close();
      }
    } catch {
      // The consumer went away between scheduling and flushing: nothing left to deliver to.
      finished = true;
      pending = [];
      onCancel();
    }
  };

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        flush();
      },
      cancel() {
        finished = true;
        pending = [];
        onCancel();
      },
    },
    { highWaterMark: 1 },
  );

  const sink: WatchSink = {
    push(line) {
      if (ended || finished) return false;
      const bytes = typeof line === 'string' ? Buffer.from(line) : line;
      pending.push(bytes);
      pendingBytes += bytes.length;
      schedule();
      return pendingBytes <= maxPendingBytes;
    },
    end() {
      ended = true;
      schedule();
    },
  };

  return {
    sink,
    body,
    fail(reason) {
      if (finished) return;
      finished = true;
      pending = [];
      controller.error(reason);
    },
  };
}
