import type { Journal, JournalEntry, JournalPredicate } from './journal.js';

/** A named step of an expected order, so a violation message says which step broke it. */
export interface Step {
  readonly label: string;
  readonly match: JournalPredicate;
}

export function step(label: string, match: JournalPredicate): Step {
  return { label, match };
}

export class OrderViolation extends Error {
  constructor(
    message: string,
    readonly entries: readonly JournalEntry[],
  ) {
    super(message);
    this.name = 'OrderViolation';
  }
}

/**
 * Asserts that every entry matching step i comes before every entry matching step i+1
 * (a strict happens-before between the step groups) and that each step occurred at least once.
 * Returns the first matching entry of each step.
 */
export function assertHappensBefore(journal: Journal, steps: readonly Step[]): JournalEntry[] {
  const all = journal.entries();
  const groups = steps.map((s) => ({ step: s, hits: all.filter(s.match) }));
  const missing = groups.find((g) => g.hits.length === 0);
  if (missing) {
    throw new OrderViolation(`expected "${missing.step.label}" in the journal, found none`, all);
  }
  for (let i = 0; i + 1 < groups.length; i++) {
    const before = groups[i]!;
    const after = groups[i + 1]!;
    const lastBefore = before.hits[before.hits.length - 1]!;
    const firstAfter = after.hits[0]!;
    if (lastBefore.seq >= firstAfter.seq) {
      throw new OrderViolation(
        `"${before.step.label}" (seq ${lastBefore.seq}: ${describe(lastBefore)}) did not happen before ` +
          `"${after.step.label}" (seq ${firstAfter.seq}: ${describe(firstAfter)})`,
        all,
      );
    }
  }
  return groups.map((g) => g.hits[0]!);
}

/** True when some entry matching `a` precedes every entry matching `b` (and both exist). */
export function happenedBefore(journal: Journal, a: JournalPredicate, b: JournalPredicate): boolean {
  const first = journal.first(a);
  const firstB = journal.first(b);
  return first !== undefined && firstB !== undefined && first.seq < firstB.seq;
}

function describe(e: JournalEntry): string {
  const ids = Object.entries(e.subject)
    .map(([k, v]) => `${k}=${v.slice(0, 12)}`)
    .join(' ');
  return `${e.source}.${e.name}${ids ? ` ${ids}` : ''}`;
}
