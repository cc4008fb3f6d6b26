import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_JOURNAL_RETAIN, journalFileOption, journalFromOptions, journalRetainOption, type JournalCliOptions } from './journal-options.js';

describe('the journal options of commands that serve fakes', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  const parse = (argv: string[]): JournalCliOptions => {
    const command = new Command('serve').exitOverride().addOption(journalFileOption('append every RPC')).addOption(journalRetainOption());
    return command.parse(argv, { from: 'user' }).opts<JournalCliOptions>();
  };

  it('bound the in-memory journal by default, while the file receives every entry', () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-options-'));
    dirs.push(dir);
    const file = join(dir, 'journal.jsonl');
    const journal = journalFromOptions(parse(['--journal', file, '--journal-retain', '2']));
    for (const name of ['A', 'B', 'C']) journal.append({ source: 'cri', kind: 'rpc', name });
    expect(journal.entries().map((e) => e.name)).toEqual(['B', 'C']);
    expect(readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['A', 'B', 'C']);
    expect(parse([]).journalRetain).toBe(String(DEFAULT_JOURNAL_RETAIN));
  });

  it('refuse a retain bound that is not a positive integer, naming the flag', () => {
    expect(() => journalFromOptions(parse(['--journal-retain', '0']))).toThrow(/--journal-retain must be an integer between 1 and/);
    expect(() => journalFromOptions(parse(['--journal-retain', 'lots']))).toThrow(/got "lots"/);
  });
});
