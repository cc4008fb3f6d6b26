import { createHash } from 'node:crypto';
import { Command } from 'commander';
import fc from 'fast-check';
import { FUZZ_TARGET_NAMES, fuzzTargets, type FuzzTargetOptions } from '../../../property-tests/fuzz-registry.js';
import type { FuzzTarget, NamedProperty } from '../../../property-tests/properties/types.js';
import { integerFlag } from '../integer-flag.js';

export interface FuzzOptions {
  readonly target: FuzzTarget;
  readonly runs: number;
  readonly seed: number;
  /** fast-check replay path; needs exactly one selected property. */
  readonly path?: string;
  /** Case-insensitive substring (or exact name) selecting properties. */
  readonly property?: string;
  /** fc.commands replay path of a model-based failure (printed with the replay command). */
  readonly replayPath?: string;
}

export interface FuzzIo {
  /** Deterministic report: identical for identical options. */
  out(line: string): void;
  /** Timings and diagnostics. */
  err(line: string): void;
  /** Transient progress (a terminal shows it in place; elsewhere it is dropped). */
  progress(line: string): void;
  now(): number;
}

export interface FuzzReport {
  readonly passed: number;
  readonly failed: number;
}

type RawProperty = fc.IRawProperty<unknown[]>;

/**
 * Wraps a property so every checked value feeds a digest (two runs with the same seed print the same
 * digest only if they generated the same cases) and a progress callback.
 */
function instrument(property: RawProperty, onRun: (value: unknown[]) => void): RawProperty {
  return {
    isAsync: () => property.isAsync(),
    generate: (mrng, runId) => property.generate(mrng, runId),
    shrink: (value) => property.shrink(value),
    run: ((value: unknown[]) => {
      onRun(value);
      return property.run(value);
    }) as RawProperty['run'],
    runBeforeEach: () => property.runBeforeEach(),
    runAfterEach: () => property.runAfterEach(),
  };
}

/**
 * A cheap, deterministic text form of a generated value for the digest (fc.stringify costs more than
 * most properties): JSON, with bigints spelled out and class instances (fc.commands sequences, …) by
 * their own toString.
 */
function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return String(v);
    }
    return v;
  });
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

type PropertySource = (target: FuzzTarget, options: FuzzTargetOptions) => readonly NamedProperty[];
const registry: PropertySource = (target, options) => fuzzTargets[target](options);

export function selectProperties(
  target: FuzzTarget,
  filter: string | undefined,
  replayPath?: string,
  source: PropertySource = registry,
): readonly NamedProperty[] {
  const all = source(target, replayPath === undefined ? {} : { commandsReplayPath: replayPath });
  if (all.length === 0) throw new Error(`fuzz target "${target}" has no properties registered yet`);
  if (filter === undefined) return all;
  const exact = all.filter((p) => p.name === filter);
  if (exact.length > 0) return exact;
  const needle = filter.toLowerCase();
  const matching = all.filter((p) => p.name.toLowerCase().includes(needle));
  if (matching.length === 0) {
    throw new Error(`--property "${filter}" matches no ${target} property; they are:\n${all.map((p) => `  ${p.name}`).join('\n')}`);
  }
  return matching;
}

/** Runs the selected properties with fast-check; reports replay commands for failures. */
export async function runFuzz(options: FuzzOptions, io: FuzzIo, source: PropertySource = registry): Promise<FuzzReport> {
  const selected = selectProperties(options.target, options.property, options.replayPath, source);
  if (options.path !== undefined && selected.length !== 1) {
    throw new Error(`--path replays one property: narrow --property to one of:\n${selected.map((p) => `  ${p.name}`).join('\n')}`);
  }
  io.out(`fuzz ${options.target}: seed ${options.seed}, ${options.runs} runs per property, ${selected.length} properties`);
  let passed = 0;
  let failed = 0;
  const started = io.now();
  for (const { name, property } of selected) {
    const digest = createHash('sha256');
    let count = 0;
    const step = Math.max(1, Math.ceil(options.runs / 10));
    const wrapped = instrument(property as RawProperty, (value) => {
      count++;
      digest.update(fingerprint(value));
      if (count % step === 0 && count <= options.runs) io.progress(`  ${name}: ${count}/${options.runs}`);
    });
    const t0 = io.now();
    const params: fc.Parameters<unknown[]> = { numRuns: options.runs, seed: options.seed, ...(options.path === undefined ? {} : { path: options.path }) };
    const details = property.isAsync() ? await fc.check(wrapped, params) : (fc.check(wrapped, params) as fc.RunDetails<unknown[]>);
    io.progress('');
    io.err(`  ${name}: ${((io.now() - t0) / 1000).toFixed(2)} s`);
    const hash = digest.digest('hex').slice(0, 16);
    if (!details.failed) {
      passed++;
      io.out(`✓ ${name} — ${details.numRuns} runs, digest ${hash}`);
      continue;
    }
    failed++;
    io.out(`✗ ${name} — failed after ${details.numRuns} runs (shrunk ${details.numShrinks} times)`);
    io.out(`  counterexample: ${fc.stringify(details.counterexample)}`);
    const error = details.errorInstance;
    if (error !== null && error !== undefined) io.out(`  error: ${error instanceof Error ? error.message : String(error)}`);
    // Model-based counterexamples also carry fc.commands' own replay path.
    const commandsPath = /replayPath="([^"]*)"/.exec(fc.stringify(details.counterexample))?.[1];
    io.out(
      `  replay: kubelet-harness fuzz ${options.target} --seed ${details.seed} --path ${shellQuote(details.counterexamplePath ?? '')} --runs ${options.runs} --property ${shellQuote(name)}` +
        (commandsPath === undefined ? '' : ` --replay-path ${shellQuote(commandsPath)}`),
    );
  }
  io.out(`${failed === 0 ? 'passed' : 'FAILED'}: ${passed} passed, ${failed} failed`);
  io.err(`total ${((io.now() - started) / 1000).toFixed(2)} s`);
  return { passed, failed };
}

/** `kubelet-harness fuzz probes|eviction|qos|quantity`: the decision-logic properties, at any scale. */
export function register(program: Command): void {
  program
    .command('fuzz')
    .description('Run the decision-logic properties with fast-check; on failure print the shrunk counterexample and a replay command')
    .argument('<target>', `what to fuzz: ${FUZZ_TARGET_NAMES.join(', ')}`)
    .option('--runs <n>', 'cases per property', '1000')
    .option('--seed <n>', 'random seed (default: a fresh one, printed)')
    .option('--path <path>', 'replay path printed by a failing run (with --seed and --property)')
    .option('--property <name>', 'only properties whose name contains this')
    .option('--replay-path <path>', 'fc.commands replay path printed for a model-based failure')
    .action(async (target: string, raw: { runs: string; seed?: string; path?: string; property?: string; replayPath?: string }) => {
      try {
        if (!(FUZZ_TARGET_NAMES as string[]).includes(target)) {
          throw new Error(`unknown fuzz target "${target}" (expected ${FUZZ_TARGET_NAMES.join(', ')})`);
        }
        const seed = raw.seed === undefined ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : integerFlag('--seed', raw.seed, -(2 ** 31), 2 ** 31 - 1);
        const report = await runFuzz(
          {
            target: target as FuzzTarget,
            runs: integerFlag('--runs', raw.runs, 1, 100_000_000),
            seed,
            ...(raw.path === undefined ? {} : { path: raw.path }),
            ...(raw.property === undefined ? {} : { property: raw.property }),
            ...(raw.replayPath === undefined ? {} : { replayPath: raw.replayPath }),
          },
          {
            out: (line) => process.stdout.write(`${line}\n`),
            err: (line) => process.stderr.write(`${line}\n`),
            progress: (line) => {
              if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 80) - 1)}`);
            },
            now: () => performance.now(),
          },
        );
        if (report.failed > 0) process.exitCode = 1;
      } catch (error) {
        process.stderr.write(`kubelet-harness fuzz: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
      }
    });
}
