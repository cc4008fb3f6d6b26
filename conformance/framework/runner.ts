import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { specId, type SpecContext, type SpecDefinition, type Suite } from './spec.js';
import type { Target, TargetKind } from './target.js';

export const DEFAULT_SPEC_TIMEOUT_MS = 60_000;

export interface SpecResult {
  readonly id: string;
  readonly suite: string;
  readonly title: string;
  readonly status: 'passed' | 'failed';
  readonly durationMs: number;
  readonly error?: { readonly message: string; readonly stack?: string };
  /** The divergence note for this target, when the spec declares one. */
  readonly divergence?: string;
  readonly logs: readonly string[];
}

export interface RunReport {
  readonly target: { readonly kind: TargetKind; readonly description: string };
  readonly startedAt: string;
  readonly durationMs: number;
  readonly results: readonly SpecResult[];
  /** Specs left out by --focus/--skip (listed, so a filtered run is never mistaken for a full one). */
  readonly filteredOut: readonly string[];
  readonly passed: number;
  readonly failed: number;
}

export interface RunOptions {
  readonly focus?: RegExp;
  readonly skip?: RegExp;
  /** Called after each spec, for live progress output. */
  readonly onResult?: (result: SpecResult) => void;
}

export function selectSpecs(
  suites: readonly Suite[],
  options: Pick<RunOptions, 'focus' | 'skip'>,
): { selected: Array<{ suite: Suite; spec: SpecDefinition }>; filteredOut: string[] } {
  const selected: Array<{ suite: Suite; spec: SpecDefinition }> = [];
  const filteredOut: string[] = [];
  for (const suite of suites) {
    for (const spec of suite.specs) {
      const id = specId(suite, spec);
      const keep = (!options.focus || options.focus.test(id)) && !(options.skip && options.skip.test(id));
      if (keep) selected.push({ suite, spec });
      else filteredOut.push(id);
    }
  }
  return { selected, filteredOut };
}

/** Runs the selected specs one after another against `target` (one runtime, no interference). */
export async function runSuites(suites: readonly Suite[], target: Target, options: RunOptions = {}): Promise<RunReport> {
  const { selected, filteredOut } = selectSpecs(suites, options);
  const startedAt = new Date().toISOString();
  const begin = performance.now();
  const cri = createCriClient({ runtimeEndpoint: target.runtimeEndpoint, imageEndpoint: target.imageEndpoint });
  const results: SpecResult[] = [];
  try {
    for (const { suite, spec } of selected) {
      const result = await runSpec(suite, spec, target, cri);
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    cri.close();
  }
  const failed = results.filter((r) => r.status === 'failed').length;
  return {
    target: { kind: target.kind, description: target.description },
    startedAt,
    durationMs: performance.now() - begin,
    results,
    filteredOut,
    passed: results.length - failed,
    failed,
  };
}

let runCounter = 0;

/** Runs one spec with its own temp dir, timeout and cleanups. Never throws: failures become results. */
export async function runSpec(suite: Suite, spec: SpecDefinition, target: Target, cri: CriClient): Promise<SpecResult> {
  const logs: string[] = [];
  const cleanups: Array<() => unknown> = [];
  const controller = new AbortController();
  const tmpDir = await mkdtemp(join(tmpdir(), 'kh-spec-'));
  const run = `${process.pid.toString(36)}${(runCounter++).toString(36)}`;
  let names = 0;
  const ctx: SpecContext = {
    target,
    cri,
    journal: target.journal,
    tmpDir,
    signal: controller.signal,
    onCleanup: (fn) => cleanups.push(fn),
    uniqueName: (prefix) => `${prefix}-${run}-${names++}`,
    log: (message) => logs.push(message),
  };
  const timeoutMs = spec.timeoutMs ?? DEFAULT_SPEC_TIMEOUT_MS;
  const begin = performance.now();
  let error: SpecResult['error'];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Error(`spec timed out after ${timeoutMs} ms`);
  try {
    await Promise.race([
      spec.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(timeout);
          controller.abort(timeout);
        }, timeoutMs);
      }),
    ]);
  } catch (err) {
    error = describeError(err);
  } finally {
    clearTimeout(timer);
  }
  // A spec that gives up quietly when aborted still timed out.
  if (!error && controller.signal.aborted) error = describeError(timeout);
  const durationMs = performance.now() - begin;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (err) {
      logs.push(`cleanup failed: ${describeError(err).message}`);
    }
  }
  await rm(tmpDir, { recursive: true, force: true });
  const divergence = spec.divergence?.[target.kind];
  return {
    id: specId(suite, spec),
    suite: suite.name,
    title: spec.title,
    status: error ? 'failed' : 'passed',
    durationMs,
    ...(error ? { error } : {}),
    ...(divergence ? { divergence } : {}),
    logs,
  };
}

function describeError(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return err.stack ? { message: err.message, stack: err.stack } : { message: err.message };
  return { message: String(err) };
}
