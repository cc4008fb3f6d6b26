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
 * captures no stack (capturing one was a measurable part of StopContainer).
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
  }
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
  private readonly controller = new AbortController();
  readonly traps = new Map<string, string>();
  private readonly pending: string[] = [];
  private readonly wakers = new Set<() => void>();

  constructor(readonly pid1: boolean) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get killed(): ProcessKilled | null {
    return this.controller.signal.aborted ? (this.controller.signal.reason as ProcessKilled) : null;
  }

  kill(exitCode = 128 + SIGNALS.KILL!): void {
    if (!this.controller.signal.aborted) this.controller.abort(new ProcessKilled(exitCode));
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
