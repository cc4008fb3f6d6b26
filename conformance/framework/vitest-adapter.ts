import { afterAll, beforeAll, describe, it } from 'vitest';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { DEFAULT_SPEC_TIMEOUT_MS, runSpec } from './runner.js';
import type { Suite } from './spec.js';
import type { Target } from './target.js';

/**
 * Registers every spec of `suites` as a vitest test against the target `open()` provides, using the same
 * runSpec the CLI uses (same temp dirs, cleanups and timeouts), so both report the same outcome.
 */
export function registerSuites(suites: readonly Suite[], open: () => Promise<Target>): void {
  let target: Target | undefined;
  let cri: CriClient | undefined;

  beforeAll(async () => {
    target = await open();
    cri = createCriClient({ runtimeEndpoint: target.runtimeEndpoint, imageEndpoint: target.imageEndpoint });
  });

  afterAll(async () => {
    cri?.close();
    await target?.close();
  });

  for (const suite of suites) {
    describe(suite.name, () => {
      for (const spec of suite.specs) {
        it(
          spec.title,
          async () => {
            if (!target || !cri) throw new Error('conformance target was not opened (see beforeAll error)');
            const result = await runSpec(suite, spec, target, cri);
            for (const line of result.logs) console.log(`[${result.id}] ${line}`);
            if (result.status === 'failed') {
              const failure = new Error(result.error?.message ?? 'spec failed');
              if (result.error?.stack) failure.stack = result.error.stack;
              throw failure;
            }
          },
          (spec.timeoutMs ?? DEFAULT_SPEC_TIMEOUT_MS) + 30_000,
        );
      }
    });
  }
}
