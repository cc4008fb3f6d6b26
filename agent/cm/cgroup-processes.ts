/**
 * Killing what is left in a pod's cgroup before it is removed (upstream pod_container_manager_linux.go
 * tryKillingCgroupProcesses): the PIDs in the pod cgroup and every cgroup below it, in any hierarchy,
 * listed once; each sent SIGKILL, the whole list tried up to five times, skipping the ones already
 * killed; a process that is already gone counts as killed. No signal is graceful here: the pod's
 * containers were stopped with their grace periods before, these are leftovers.
 */

/** Sends the kill to one process; throws when it could not (a process already gone is not an error). */
export type KillProcess = (pid: number) => void;

/** How many passes over the PID list upstream makes before giving up. */
export const KILL_ATTEMPTS = 5;

export interface KillOutcome {
  /** PIDs killed (or found already gone). */
  readonly killed: readonly number[];
  /** The last pass's failures, one per PID still alive; empty when every PID was killed. */
  readonly errors: readonly Error[];
}

/** The retry loop alone (pure given `kill`): stops at the first pass without failures. */
export function killProcesses(pids: readonly number[], kill: KillProcess, attempts = KILL_ATTEMPTS): KillOutcome {
  const killed = new Set<number>();
  let errors: Error[] = [];
  for (let attempt = 0; attempt < attempts; attempt++) {
    errors = [];
    for (const pid of pids) {
      if (killed.has(pid)) continue;
      try {
        kill(pid);
        killed.add(pid);
      } catch (e) {
        errors.push(new Error(`killing pid ${pid}: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    if (errors.length === 0) break;
  }
  return { killed: [...killed], errors };
}

/** SIGKILL through the kernel; ESRCH (the process exited meanwhile) is success, as Go's os.ErrProcessDone. */
export const sigkill: KillProcess = (pid) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw e;
  }
};

/** cgroup.procs text to PIDs; blank lines ignored, anything else that is not a positive integer too. */
export function parseCgroupProcs(text: string): number[] {
  const pids: number[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (/^\d+$/.test(trimmed) && Number(trimmed) > 0) pids.push(Number(trimmed));
  }
  return pids;
}
