/**
 * Every private directory the harness creates in the temp dir carries an owner.json naming the process that
 * created it (pid + start time). A later run sweeps directories whose owner is dead — the leftovers of a run
 * that was killed before its teardown could run (SIGKILL, a crash of the test runner).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, readProcess } from './proc.js';

export const RUN_DIR_PREFIX = 'kubelet-harness-';
const RECORD_FILE = 'owner.json';

export interface OwnerRecord<Details> {
  readonly kind: string;
  readonly ownerPid: number;
  readonly ownerStartTime: string;
  readonly details: Details;
}

export function writeOwnerRecord<Details>(dir: string, kind: string, details: Details): OwnerRecord<Details> {
  const self = readProcess(process.pid);
  const record: OwnerRecord<Details> = { kind, ownerPid: process.pid, ownerStartTime: self?.startTime ?? '', details };
  writeFileSync(join(dir, RECORD_FILE), JSON.stringify(record), { mode: 0o600 });
  return record;
}

export function readOwnerRecord(dir: string): OwnerRecord<unknown> | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, RECORD_FILE), 'utf8')) as Partial<OwnerRecord<unknown>>;
    if (typeof parsed.kind !== 'string' || typeof parsed.ownerPid !== 'number' || typeof parsed.ownerStartTime !== 'string') return undefined;
    return parsed as OwnerRecord<unknown>;
  } catch {
    return undefined;
  }
}

/** Harness directories of `kind` in `parent` whose owning process no longer runs. */
export function orphanedRunDirs(kind: string, parent: string = tmpdir()): { dir: string; record: OwnerRecord<unknown> }[] {
  return runDirs(kind, parent).filter(({ record }) => !isAlive(record.ownerPid, record.ownerStartTime));
}

/** Harness directories of `kind` in `parent` whose owning process still runs. */
export function liveRunDirs(kind: string, parent: string = tmpdir()): { dir: string; record: OwnerRecord<unknown> }[] {
  return runDirs(kind, parent).filter(({ record }) => isAlive(record.ownerPid, record.ownerStartTime));
}

function runDirs(kind: string, parent: string): { dir: string; record: OwnerRecord<unknown> }[] {
  const found: { dir: string; record: OwnerRecord<unknown> }[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    return found;
  }
  for (const name of names) {
    if (!name.startsWith(RUN_DIR_PREFIX)) continue;
    const dir = join(parent, name);
    const record = readOwnerRecord(dir);
    if (record?.kind === kind) found.push({ dir, record });
  }
  return found;
}
