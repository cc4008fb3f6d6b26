/**
 * Probe-worker fuzz bench: how many scripted probe scenarios per second `simulateProbes` runs in
 * virtual time (no clock, no sleeping: a scenario's simulated minutes cost microseconds), with a
 * same-run baseline:
 *   - simulate:  simulateProbes (validation + worker state machine + manager + results caches) over
 *                pre-generated scenarios;
 *   - baseline:  the naive counting model of the property tests over the same scenarios (the least work
 *                that still decides every rule), so the ratio is the cost of the real machinery;
 *   - fuzz:      the model-based property through fast-check (generate + run both + compare), seeded.
 * Run: node --experimental-transform-types --disable-warning=ExperimentalWarning \
 *        --import ./ci/scripts/source-loader.mjs bench/fuzz-probes.ts
 * (BENCH_PROBE_SCENARIOS, BENCH_PROBE_SEED to change the workload.)
 */
import fc from 'fast-check';
import { simulateProbes, type ProbeScenario } from '../agent/prober/index.js';
import { probeScenarioArb } from '../property-tests/properties/probe-arbitraries.js';
import { ProbeModel } from '../property-tests/properties/probe-model.js';
import { PROBE_MODEL_PROPERTY, probeProperties } from '../property-tests/properties/probes.js';
import { positiveIntFromEnv, perSecond } from './measure.js';

export interface ProbeBenchFigures {
  readonly scenarios: number;
  readonly events: number;
  readonly simulatedSeconds: number;
  readonly scenariosPerSecond: number;
  readonly baselineScenariosPerSecond: number;
  readonly fuzzCasesPerSecond: number;
}



/** Replays a scenario through the counting model (the baseline). */
function runModel(scenario: ProbeScenario): number {
  const model = new ProbeModel({ restartPolicy: scenario.restartPolicy, probes: scenario.probes as ProbeModel['setup']['probes'] });
  for (const e of scenario.events) {
    model.t = e.t;
    if (e.kind === 'tick') model.tick(e.probe, e.outcome);
    else if (e.kind === 'containerStart') model.start();
    else if (e.kind === 'containerExit') model.exit(e.exitCode);
    else model.delete();
  }
  return model.executed;
}

export function runProbeBench(options: { scenarios: number; seed: number }): ProbeBenchFigures {
  const scenarios = fc.sample(probeScenarioArb, { numRuns: options.scenarios, seed: options.seed });
  const events = scenarios.reduce((n, s) => n + s.events.length, 0);
  const simulatedSeconds = scenarios.reduce((n, s) => n + (s.events.at(-1)?.t ?? 0), 0);
  let sink = 0;
  const scenariosPerSecond = perSecond(scenarios.length, () => {
    for (const s of scenarios) sink += simulateProbes(s).executed.length;
  });
  const baselineScenariosPerSecond = perSecond(scenarios.length, () => {
    for (const s of scenarios) sink += runModel(s);
  });
  const modelProperty = probeProperties.find((p) => p.name === PROBE_MODEL_PROPERTY);
  if (modelProperty === undefined) throw new Error('model-based probe property not found');
  const fuzzRuns = Math.max(1, Math.floor(options.scenarios / 4));
  const fuzzCasesPerSecond = perSecond(fuzzRuns, () => {
    const details = fc.check(modelProperty.property, { numRuns: fuzzRuns, seed: options.seed });
    if (details instanceof Promise) throw new Error('the model property is unexpectedly asynchronous');
    if (details.failed) throw new Error(`model property failed: ${fc.defaultReportMessage(details) ?? 'no report'}`);
  });
  if (sink === -1) console.log('unreachable');
  return { scenarios: scenarios.length, events, simulatedSeconds, scenariosPerSecond, baselineScenariosPerSecond, fuzzCasesPerSecond };
}

export function formatProbeBench(f: ProbeBenchFigures): string {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    `probe bench (${f.scenarios} scenarios, ${(f.events / f.scenarios).toFixed(1)} events and ${(f.simulatedSeconds / f.scenarios).toFixed(0)} s of virtual time each)`,
    `  simulateProbes: ${n(f.scenariosPerSecond)} scenarios/s = ${n(f.scenariosPerSecond * (f.events / f.scenarios))} events/s, ` +
      `${n(f.scenariosPerSecond * (f.simulatedSeconds / f.scenarios))} virtual s per wall s (target >= 2,000 scenarios/s: ${f.scenariosPerSecond >= 2000 ? 'met' : 'NOT met'})`,
    `  baseline counting model: ${n(f.baselineScenariosPerSecond)} scenarios/s (simulateProbes is ${(f.baselineScenariosPerSecond / f.scenariosPerSecond).toFixed(1)}x slower)`,
    `  model-based fuzz: ${n(f.fuzzCasesPerSecond)} cases/s (generate + run model and simulator + compare, up to 80 commands)`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatProbeBench(runProbeBench({ scenarios: positiveIntFromEnv('BENCH_PROBE_SCENARIOS', 20_000), seed: positiveIntFromEnv('BENCH_PROBE_SEED', 1) })));
}
