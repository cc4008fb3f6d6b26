import type { WatchSink } from './watch.js';

/**
 * A watch's byte stream: NDJSON lines from a WatchSession, delivered with backpressure either as the
 * body of the Fetch Response (a ReadableStream, for any msw consumer) or, when the HTTP adapter
 * attaches a socket writer, written straight to the connection without web-stream hops. Lines
 * produced in the same event-loop turn go out as one chunk (one write per watcher per turn rather
 * than per event, which matters with many watchers). A consumer that falls more than
 * `maxPendingBytes` behind gets its stream ended (kube-apiserver likewise drops watchers that cannot
 * keep up; the client resumes from its last resourceVersion).
 */
export interface WatchWriter {
  /** Writes a chunk; false means "buffer full, wait for drain". */
  write(chunk: Buffer): boolean;
  onDrain(listener: () => void): void;
  end(): void;
  /** Cuts the connection without a final chunk. */
  destroy(): void;
}

export interface WatchStream {
  readonly sink: WatchSink;
  readonly body: ReadableStream<Uint8Array>;
  /** Delivers to `writer` instead of the ReadableStream (which is then never read). */
  attach(writer: WatchWriter): void;
  /** The consumer went away. */
  cancel(): void;
  /** Aborts the stream mid-flight: the connection is cut without a final chunk. */
  fail(reason: Error): void;
}

export function createWatchStream(onCancel: () => void, maxPendingBytes = 16 * 1024 * 1024): WatchStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  // Nothing is delivered until a consumer shows up: a reader of the body, or an attached writer.
  let mode: 'undecided' | 'web' | 'writer' = 'undecided';
  let readerWaiting = false;
  let writer: WatchWriter | undefined;
  let writerBlocked = false;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let scheduled = false;
  let ended = false;
  let finished = false;

  const cancel = (): void => {
    if (finished) return;
    finished = true;
    pending = [];
    onCancel();
  };

  const take = (): Buffer => {
    const chunk = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return chunk;
  };

  const flush = (): void => {
    scheduled = false;
    if (finished) return;
    try {
      if (mode === 'undecided') return;
      if (writer) {
        if (pending.length > 0 && !writerBlocked) writerBlocked = !writer.write(take());
        if (ended && pending.length === 0 && !writerBlocked) {
          finished = true;
          writer.end();
        }
        return;
      }
      if (pending.length > 0 && readerWaiting) {
        readerWaiting = false;
        controller.enqueue(take());
      }
      if (ended && pending.length === 0) {
        finished = true;
        controller.close();
      }
    } catch {
      // The consumer went away between scheduling and flushing: nothing left to deliver to.
      cancel();
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
        if (mode === 'undecided') mode = 'web';
        readerWaiting = true;
        flush();
      },
      cancel() {
        cancel();
      },
    },
    // Pulled only when a reader asks: that is what makes a reader the consumer.
    { highWaterMark: 0 },
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
    attach(w) {
      if (mode === 'web') throw new Error('watch stream: the body is already being read');
      mode = 'writer';
      writer = w;
      w.onDrain(() => {
        writerBlocked = false;
        schedule();
      });
      schedule();
    },
    cancel,
    fail(reason) {
      if (finished) return;
      finished = true;
      pending = [];
      if (writer) writer.destroy();
      else controller.error(reason);
    },
  };
}
