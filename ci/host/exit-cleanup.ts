/**
 * Synchronous cleanups that must run however the process ends: normal exit, an uncaught error, or a
 * termination signal. Async teardown (through the CRI) is the normal path; these are the safety net.
 */
const cleanups = new Set<() => void>();
const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`kubelet-harness: cleanup failed: ${(error as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // When nobody else handles the signal, die of it as the default action would have.
  if (process.listenerCount(signal) <= 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function uninstall(): void {
  process.off('exit', runAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
  installed = false;
}

/** Registers a cleanup; call the returned function once the normal teardown has done the job. */
export function onProcessEnd(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return () => {
    cleanups.delete(cleanup);
    if (cleanups.size === 0 && installed) uninstall();
  };
}
