import { InvalidInputError, expectArray, expectNumber, expectObject, expectOneOf } from '../util/invalid-input.js';
import { RESTART_POLICIES, type RestartPolicy } from '../prober/types.js';
import { crashLoopBackOffDecision, nextBackoff, parseBackoffPolicy, type BackoffEntry, type BackoffPolicy } from './backoff.js';
import { shouldContainerBeRestarted } from './restart-policy.js';

export interface CrashLoopScenario {
  readonly restartPolicy: RestartPolicy;
  /**
   * Successive container instances: how long each runs before exiting, and its exit code (default 1).
   * `killedBy` marks an instance the kubelet killed for a failed liveness/startup probe (exit code
   * default 137): it is restarted in the same sync, unless restartPolicy is Never.
   */
  readonly runs: ReadonlyArray<{ readonly durationSeconds: number; readonly exitCode?: number; readonly killedBy?: ProbeKillReason }>;
  readonly backoff?: Partial<BackoffPolicy>;
}

export type ProbeKillReason = 'LivenessProbe' | 'StartupProbe';

export interface CrashLoopInstance {
  /** 0-based instance number (= restartCount). */
  readonly instance: number;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly exitCode: number;
  readonly restartCount: number;
  /** When the next instance starts; null = never (restart policy, or not restarted). */
  readonly restartAt: number | null;
  /** restartAt − finishedAt (time spent in CrashLoopBackOff), null when never restarted. */
  readonly waitSeconds: number | null;
  /** The backoff window stored by that restart, null when never restarted. */
  readonly backoffAfterRestartSeconds: number | null;
}

export interface CrashLoopSimulation {
  readonly instances: readonly CrashLoopInstance[];
}

/**
 * When the kubelet restarts a crashing container (semantics §3): the first instance starts at t=0;
 * after each exit the restart policy decides, and the CrashLoopBackOff entry allows the restart at the
 * earliest time `now − finishedAt ≥ backoff` (the kubelet re-checks on every sync; this is the exact
 * bound). Quick crashes wait 0, 10, 20, 40, 80, 160, 300, 300… s from each exit; an instance that ran
 * longer than resetAfterSeconds starts the sequence again. Runs after a final, unrestarted exit never
 * happen and are not listed.
 *
 * A probe kill is different (semantics §3.6): the kill and the restart happen in one sync whose
 * snapshot still shows the killed instance running, so the backoff check looks at the previous exited
 * instance; the restart is usually immediate, and with no earlier exit the backoff is not touched at all.
 * When that check refuses, the next sync sees the killed instance exited and the usual rule applies.
 *
 * Not modelled: the housekeeping GC that drops an entry idle for more than 2 × max, which can cut a
 * long wait short when an instance ran for a while (semantics §10 lists it as unconfirmed).
 *
 * @example
 * simulateCrashLoop({ restartPolicy: 'Always', runs: [{ durationSeconds: 1 }, { durationSeconds: 1 }, { durationSeconds: 1 }] })
 *   .instances.map((i) => i.waitSeconds); // → [0, 10, 20]
 */
export function simulateCrashLoop(scenario: CrashLoopScenario): CrashLoopSimulation {
  const { restartPolicy, runs, policy } = parseCrashLoopScenario(scenario);
  const instances: CrashLoopInstance[] = [];
  let entry: BackoffEntry | undefined;
  let startedAt = 0;
  for (const [i, run] of runs.entries()) {
    const finishedAt = startedAt + run.durationSeconds;
    const base = { instance: i, startedAt, finishedAt, exitCode: run.exitCode, restartCount: i };
    const restarts =
      run.killedBy === undefined
        ? shouldContainerBeRestarted({ restartPolicy, state: 'exited', exitCode: run.exitCode })
        : restartPolicy !== 'Never';
    if (!restarts) {
      instances.push({ ...base, restartAt: null, waitSeconds: null, backoffAfterRestartSeconds: null });
      break;
    }
    if (run.killedBy !== undefined) {
      // Same sync as the kill: the newest exited instance in its snapshot is the previous one (if any).
      const previous = instances.at(-1);
      const inKillSync = crashLoopBackOffDecision(entry, previous === undefined ? null : previous.finishedAt, finishedAt, policy);
      if (inKillSync.start) {
        entry = inKillSync.entry;
        instances.push({ ...base, restartAt: finishedAt, waitSeconds: 0, backoffAfterRestartSeconds: entry === undefined ? null : entry.backoffSeconds });
        startedAt = finishedAt;
        continue;
      }
    }
    // Ask at the exit; if refused, the earliest allowed time is exactly finishedAt + backoff, where the
    // entry advances as it would then (computed directly: re-asking in floating point could round below).
    const atExit = crashLoopBackOffDecision(entry, finishedAt, finishedAt, policy);
    const waitSeconds = atExit.start ? 0 : atExit.entry.backoffSeconds;
    const restartAt = atExit.start ? finishedAt : atExit.retryAt;
    const decision = atExit.start ? atExit : { start: true as const, entry: nextBackoff(entry, finishedAt, restartAt, policy) };
    entry = decision.entry;
    instances.push({
      ...base,
      restartAt,
      waitSeconds,
      backoffAfterRestartSeconds: entry === undefined ? null : entry.backoffSeconds,
    });
    startedAt = restartAt;
  }
  return { instances };
}

const PROBE_KILL_REASONS: readonly ProbeKillReason[] = ['LivenessProbe', 'StartupProbe'];

/** Validates an untrusted crash-loop scenario; throws InvalidInputError naming the field. */
export function parseCrashLoopScenario(input: unknown): {
  restartPolicy: RestartPolicy;
  runs: Array<{ durationSeconds: number; exitCode: number; killedBy?: ProbeKillReason }>;
  policy: BackoffPolicy;
} {
  const root = expectObject(input, 'scenario');
  const restartPolicy = expectOneOf(root['restartPolicy'] ?? 'Always', 'restartPolicy', RESTART_POLICIES);
  const runsIn = expectArray(root['runs'], 'runs');
  if (runsIn.length === 0) throw new InvalidInputError('runs', 'must list at least one run');
  const runs = runsIn.map((raw, i) => {
    const run = expectObject(raw, `runs[${i}]`);
    const killedBy = run['killedBy'] === undefined ? undefined : expectOneOf(run['killedBy'], `runs[${i}].killedBy`, PROBE_KILL_REASONS);
    return {
      durationSeconds: expectNumber(run['durationSeconds'], `runs[${i}].durationSeconds`, { min: 0 }),
      exitCode: expectNumber(run['exitCode'] ?? (killedBy === undefined ? 1 : 137), `runs[${i}].exitCode`, { integer: true, min: 0, max: 255 }),
      ...(killedBy === undefined ? {} : { killedBy }),
    };
  });
  return { restartPolicy, runs, policy: parseBackoffPolicy(root['backoff']) };
}
