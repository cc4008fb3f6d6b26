import type { Clock, TimerHandle } from '../../../agent/clock/clock.js';

/** The longest delay a Node timer can hold. */
export const MAX_TIMER_MS = 2_147_483_647;

/** Signal numbers the shell model knows (Linux x86-64 numbering). */
export const SIGNALS: Record<string, number> = { EXIT: 0, HUP: 1, INT: 2, QUIT: 3, KILL: 9, USR1: 10, USR2: 12, TERM: 15 };

export function signalName(text: string): string | null {
  const upper = text.toUpperCase().replace(/^SIG/, '');
  if (upper in SIGNALS) return upper;
  const byNumber = Object.entries(SIGNALS).find(([, n]) => String(n) === text);
  return byNumber ? byNumber[0] : null;
}

/**
 * Why a process ended by a signal: the exit status a runtime reports for it (128 + signal number).
 * Every stopped container makes one and it is control flow, never reported with a trace, so it
 * captures no stack, and one instance per status is shared (see processKilled): constructing an Error,
 * even without a stack, was a measurable part of StopContainer.
 */
export class ProcessKilled extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`killed (exit status ${exitCode})`);
    Error.stackTraceLimit = limit;
    this.exitCode = exitCode;
    this.name = 'ProcessKilled';
    Object.freeze(this);
  }
}

/** The shared, frozen ProcessKilled of each exit status 0-255 (others get their own). */
const killedByStatus: ProcessKilled[] = [];

export function processKilled(exitCode: number): ProcessKilled {
  if (!(Number.isInteger(exitCode) && exitCode >= 0 && exitCode <= 255)) return new ProcessKilled(exitCode);
  return (killedByStatus[exitCode] ??= new ProcessKilled(exitCode));
}

/**
 * Signal state of one scripted process. SIGKILL aborts `signal` at once. A catchable signal is ignored
 * when trapped with '', queued for the trap's action when trapped with a command (the shell runs it
 * once the current foreground command finishes, as sh does), and otherwise takes its default action:
 * terminate, except for PID 1 of a container, to which the kernel does not deliver signals whose
 * disposition is the default. That is why `sleep 600` as a container command ignores SIGTERM on a
 * real runtime and StopContainer waits for the whole grace period.
 */
export class ProcessControl {
  /**
   * Made on first use of `signal`: most processes (a container's `sleep N`) never need an AbortSignal,
   * and making and aborting one was a measurable share of starting and stopping a container.
   */
  private controller: AbortController | null = null;
  private killedBy: ProcessKilled | null = null;
  private readonly killHooks = new Set<() => void>();
  readonly traps = new Map<string, string>();
  private readonly pending: string[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(readonly pid1: boolean) {}

  /** Aborted (with the ProcessKilled as its reason) when the process is killed, for APIs that take a signal. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.killedBy) this.controller.abort(this.killedBy);
    }
    return this.controller.signal;
  }

  get killed(): ProcessKilled | null {
    return this.killedBy;
  }

  kill(exitCode = 128 + SIGNALS.KILL!): void {
    if (this.killedBy) return;
    this.killedBy = processKilled(exitCode);
    this.controller?.abort(this.killedBy);
    for (const hook of [...this.killHooks]) hook();
  }

  /** Calls `fn` once when the process is killed (at once when it already was); returns the unsubscribe function. */
  onKill(fn: () => void): () => void {
    if (this.killedBy) {
      fn();
      return () => undefined;
    }
    const once = (): void => {
      this.killHooks.delete(once);
      fn();
    };
    this.killHooks.add(once);
    return () => this.killHooks.delete(once);
  }

  /**
   * Waits `ms` on the clock, or until the process is killed: then it rejects with the ProcessKilled.
   * Longer than a Node timer can hold (~24.8 days), it only ends by a kill.
   */
  sleep(clock: Pick<Clock, 'setTimeout'>, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: TimerHandle | null = null;
      const unsubscribe = this.onKill(() => {
        timer?.cancel();
        reject(this.killedBy);
      });
      if (this.killedBy || ms > MAX_TIMER_MS) return;
      timer = clock.setTimeout(() => {
        unsubscribe();
        resolve();
      }, ms);
    });
  }

  /** Resolves never; rejects with the ProcessKilled once the process is killed. */
  untilKilled(): Promise<never> {
    return new Promise<never>((_, reject) => void this.onKill(() => reject(this.killedBy)));
  }

  /** Delivers a catchable signal and says what became of it. */
  deliver(name: string): 'ignored' | 'trapped' | 'terminated' {
    if (name === 'KILL') {
      this.kill();
      return 'terminated';
    }
    const action = this.traps.get(name);
    if (action === '') return 'ignored';
    if (action !== undefined) {
      this.pending.push(name);
      for (const wake of [...this.wakers]) wake();
      return 'trapped';
    }
    if (this.pid1) return 'ignored';
    this.kill(128 + (SIGNALS[name] ?? 15));
    return 'terminated';
  }

  takePending(): string[] {
    return this.pending.splice(0);
  }

  hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Calls `fn` when a trapped signal arrives; returns the unsubscribe function. */
  onTrappedSignal(fn: () => void): () => void {
    this.wakers.add(fn);
    return () => this.wakers.delete(fn);
  }
}
