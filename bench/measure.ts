import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CRI_UNARY_TRANSPORTS, type CriUnaryTransport } from '../agent/runtime/cri-client.js';

/** A positive integer from the environment (bench sizes and seeds), or the fallback when unset. */
export function positiveIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

/** A non-negative integer from the environment (0 turns a step off), or the fallback when unset. */
export function nonNegativeIntFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** The agent's unary CRI transport for bench/agent (BENCH_AGENT_CRI_TRANSPORT: h2, the default, or grpc-js). */
export function criTransportFromEnv(): CriUnaryTransport {
  const raw = process.env['BENCH_AGENT_CRI_TRANSPORT'] || 'h2';
  if (!(CRI_UNARY_TRANSPORTS as readonly string[]).includes(raw)) throw new Error(`BENCH_AGENT_CRI_TRANSPORT must be one of ${CRI_UNARY_TRANSPORTS.join(', ')}, got "${raw}"`);
  return raw as CriUnaryTransport;
}

/**
 * Operations per second of `fn` doing `count` operations: best of three timed passes after an untimed warm-up.
 * The machine is shared, so the fastest pass is the least disturbed one.
 */
export function perSecond(count: number, fn: () => void): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return count / (best / 1000);
}

/** Where a bench's runtimes write their files, and why there (printed with the figures). */
export interface Scratch {
  readonly dir: string;
  readonly why: string;
}

/**
 * Points os.tmpdir() (TMPDIR) at tmpfs (/dev/shm) for the rest of the run, unless TMPDIR is set: the
 * pod log files, the agent's root and the runtimes' state then cost what the runtimes do, not what this
 * VM's disk does (creating a file under /tmp on its journal-less ext4 has measured anywhere from 20 to
 * 930 µs, depending on other processes' recent deletions). Both targets of a comparison write to the
 * same place. Call before anything creates its directories (workers inherit the environment).
 */
export function useScratchTmpdir(shm = '/dev/shm'): Scratch {
  const set = process.env['TMPDIR'];
  if (set) return { dir: set, why: 'TMPDIR as set' };
  try {
    accessSync(shm, constants.W_OK);
    if (!statSync(shm).isDirectory()) throw new Error(`${shm} is not a directory`);
  } catch {
    return { dir: tmpdir(), why: `no writable ${shm}: the disk's file creation cost is part of the figures` };
  }
  process.env['TMPDIR'] = shm;
  return { dir: shm, why: `tmpfs, so the disk stays out of the figures; set TMPDIR to measure elsewhere` };
}
