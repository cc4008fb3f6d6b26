import type { EventEmitter } from 'node:events';

/**
 * Resolves after the first SIGINT or SIGTERM once `close` has finished (or failed): how the long-running
 * commands (`agent`, `up`) shut down. The listeners are removed before closing, so a second signal
 * gets Node's default handling and ends the process.
 */
export function untilSignal(close: () => Promise<unknown>, target: Pick<EventEmitter, 'on' | 'off'> = process): Promise<void> {
  return new Promise<void>((done) => {
    const stop = (): void => {
      target.off('SIGINT', stop);
      target.off('SIGTERM', stop);
      void close().then(
        () => done(),
        () => done(),
      );
    };
    target.on('SIGINT', stop);
    target.on('SIGTERM', stop);
  });
}
