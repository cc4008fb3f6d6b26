import { appendFileSync } from 'node:fs';
import { Option } from 'commander';
import { Journal, journalJsonLine } from '../../fakes/journal/journal.js';
import { integerFlag } from './integer-flag.js';

/**
 * Entries a long-running fake keeps in memory. Every entry keeps its request and response reachable:
 * measured on the fake CRI with 110 pods, a relist (ListPodSandbox + ListContainers, once a second
 * under a kubelet) grew the heap by ~32 KiB, ~110 MiB an hour, without a bound; with 1,000 entries kept
 * the growth stopped at 11–16 MiB. Nothing in a CLI process reads old entries; the --journal file
 * receives every entry.
 */
export const DEFAULT_JOURNAL_RETAIN = 1_000;

export interface JournalCliOptions {
  journal?: string;
  journalRetain: string;
}

/** --journal FILE, for a command that serves fakes: `what` says what it appends ("append every RPC"). */
export function journalFileOption(what: string): Option {
  return new Option('--journal <file>', `${what} to this file as JSON lines`);
}

/** --journal-retain N: the in-memory bound. */
export function journalRetainOption(): Option {
  return new Option('--journal-retain <n>', 'newest journal entries kept in memory (the --journal file receives all)').default(String(DEFAULT_JOURNAL_RETAIN));
}

/** The process's journal, bounded by --journal-retain and mirrored to --journal when given. */
export function journalFromOptions(options: JournalCliOptions): Journal {
  const retain = integerFlag('--journal-retain', options.journalRetain, 1, Number.MAX_SAFE_INTEGER);
  const journal = new Journal(undefined, { retain });
  const file = options.journal;
  if (file) journal.subscribe((entry) => appendFileSync(file, `${journalJsonLine(entry)}\n`));
  return journal;
}
