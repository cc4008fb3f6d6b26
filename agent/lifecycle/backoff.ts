import { InvalidInputError, expectNumber, expectObject } from '../util/invalid-input.js';

/**
 * CrashLoopBackOff bookkeeping (semantics §3): client-go's per-key `flowcontrol.Backoff` as the
 * kubelet configures and uses it in `doBackOff`, as pure functions of an entry and an explicit `now`.
 * Times are seconds on any monotonic clock; the shell keeps one entry per container key
 * (pod namespace/name/UID + container name + spec hash).
 */

export interface BackoffPolicy {
  /** First non-zero wait (kubelet default 10 s). */
  readonly initialSeconds: number;
  /** Cap of the doubling (kubelet default 300 s). */
  readonly maxSeconds: number;
  /**
   * An entry whose last update is more than this before the latest exit is treated as absent: the
   * container ran long enough to reset the sequence (kubelet: fixed 600 s; older releases 2 × max).
   */
  readonly resetAfterSeconds: number;
}

export const DEFAULT_CRASHLOOP_BACKOFF: BackoffPolicy = Object.freeze({ initialSeconds: 10, maxSeconds: 300, resetAfterSeconds: 600 });

export interface BackoffEntry {
  /** Current window: a restart is refused while `now − finishedAt < backoffSeconds`. */
  readonly backoffSeconds: number;
  /** When the entry was last advanced (the time of the last allowed restart). */
  readonly lastUpdate: number;
}

/** Validates a user-supplied policy (missing fields take the defaults); throws naming the field. */
export function parseBackoffPolicy(input: unknown, field = 'backoff'): BackoffPolicy {
  if (input === undefined || input === null) return DEFAULT_CRASHLOOP_BACKOFF;
  const raw = expectObject(input, field);
  const read = (name: keyof BackoffPolicy, min: number): number =>
    raw[name] === undefined ? DEFAULT_CRASHLOOP_BACKOFF[name] : expectNumber(raw[name], `${field}.${name}`, { min });
  const policy = { initialSeconds: read('initialSeconds', 0), maxSeconds: read('maxSeconds', 0), resetAfterSeconds: read('resetAfterSeconds', 0) };
  if (policy.maxSeconds <= 0) throw new InvalidInputError(`${field}.maxSeconds`, `must be > 0, got ${policy.maxSeconds}`);
  if (policy.initialSeconds <= 0) throw new InvalidInputError(`${field}.initialSeconds`, `must be > 0, got ${policy.initialSeconds}`);
  // Like the kubelet with a configured max below the initial delay: the initial delay shrinks to it.
  return { ...policy, initialSeconds: Math.min(policy.initialSeconds, policy.maxSeconds) };
}

/** `hasExpired`: the entry is stale relative to an event (the exit) that happened at `eventTime`. */
export function backoffExpired(entry: BackoffEntry, eventTime: number, policy: BackoffPolicy): boolean {
  return eventTime - entry.lastUpdate > policy.resetAfterSeconds;
}

/** `IsInBackOffSince(key, finishedAt)`: true while a restart must still wait. */
export function isInBackOffSince(entry: BackoffEntry | undefined, eventTime: number, now: number, policy: BackoffPolicy): boolean {
  if (entry === undefined || backoffExpired(entry, eventTime, policy)) return false;
  return now - eventTime < entry.backoffSeconds;
}

/** `Next(key, finishedAt)`: a fresh or stale entry restarts at the initial window, else it doubles up to max. */
export function nextBackoff(entry: BackoffEntry | undefined, eventTime: number, now: number, policy: BackoffPolicy): BackoffEntry {
  if (entry === undefined || backoffExpired(entry, eventTime, policy)) return { backoffSeconds: policy.initialSeconds, lastUpdate: now };
  return { backoffSeconds: Math.min(entry.backoffSeconds * 2, policy.maxSeconds), lastUpdate: now };
}

export type BackoffDecision =
  /** Start now; store `entry` (unchanged when the container never exited before). */
  | { readonly start: true; readonly entry: BackoffEntry | undefined }
  /** Refused with CrashLoopBackOff; retry at `retryAt` (the earliest allowed time). */
  | { readonly start: false; readonly entry: BackoffEntry; readonly retryAt: number };

/**
 * The kubelet's `doBackOff` check before starting a container. `lastExitFinishedAt` is `finishedAt` of
 * the most recent exited instance, or null when the container never exited (then the backoff is not
 * touched at all).
 */
export function crashLoopBackOffDecision(
  entry: BackoffEntry | undefined,
  lastExitFinishedAt: number | null,
  now: number,
  policy: BackoffPolicy = DEFAULT_CRASHLOOP_BACKOFF,
): BackoffDecision {
  if (lastExitFinishedAt === null) return { start: true, entry };
  if (entry !== undefined && isInBackOffSince(entry, lastExitFinishedAt, now, policy)) {
    return { start: false, entry, retryAt: lastExitFinishedAt + entry.backoffSeconds };
  }
  return { start: true, entry: nextBackoff(entry, lastExitFinishedAt, now, policy) };
}

/**
 * A keyed store of entries for the running agent (the kubelet's `crashLoopBackOff`), deciding with an
 * explicit `now`. `gc` drops entries not updated for more than 2 × max, as the kubelet's housekeeping does.
 */
export class CrashLoopBackOff {
  private readonly entries = new Map<string, BackoffEntry>();

  constructor(readonly policy: BackoffPolicy = DEFAULT_CRASHLOOP_BACKOFF) {}

  decide(key: string, lastExitFinishedAt: number | null, now: number): BackoffDecision {
    const decision = crashLoopBackOffDecision(this.entries.get(key), lastExitFinishedAt, now, this.policy);
    if (decision.start && decision.entry !== undefined) this.entries.set(key, decision.entry);
    return decision;
  }

  entry(key: string): BackoffEntry | undefined {
    return this.entries.get(key);
  }

  gc(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.lastUpdate > 2 * this.policy.maxSeconds) this.entries.delete(key);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
