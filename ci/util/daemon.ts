/**
 * A long-running child process (registry, containerd) with its output kept in a log file and a short in-memory
 * tail for error messages, and a stop that escalates from SIGTERM to SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { realClock, type Clock } from '../../agent/clock/index.js';

export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Set once the process has exited: why. */
  exitReason(): string | undefined;
  /** The last lines of its output, for error messages. */
  tail(): string;
  stop(graceMs?: number): Promise<void>;
}

export function startDaemon(name: string, command: string, args: readonly string[], logFile: string, clock: Clock = realClock): Daemon {
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  let recent = '';
  const keep = (chunk: Buffer): void => {
    log.write(chunk);
    recent = (recent + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = signal ? `${name} was killed by ${signal}` : `${name} exited with code ${code}`;
      resolve();
    });
    child.once('error', (error) => {
      exited = `${name} could not be started: ${error.message}`;
      resolve();
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exitReason: () => exited,
    tail: () => recent.split('\n').slice(-15).join('\n'),
    async stop(graceMs = 5000) {
      if (exited === undefined && child.pid !== undefined) {
        child.kill('SIGTERM');
        let timer: { cancel(): void } | undefined;
        const killed = new Promise<void>((resolve) => {
          timer = clock.setTimeout(() => {
            if (exited === undefined) child.kill('SIGKILL');
            resolve();
          }, graceMs);
        });
        await Promise.race([exitedPromise, killed]);
        timer?.cancel();
        await exitedPromise;
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}
