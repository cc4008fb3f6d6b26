/**
 * `npm run bench:fuzz`: the decision-logic fuzz figures of issue 6 in one run — probe-worker scenarios/s
 * (bench/fuzz-probes.ts) and eviction-ranking cases/s (bench/fuzz-eviction.ts), each with its baseline.
 * (BENCH_PROBE_SCENARIOS, BENCH_EVICTION_CASES, BENCH_SEED to change the workload.)
 */
import { formatEvictionBench, runEvictionBench } from './fuzz-eviction.js';
import { formatProbeBench, runProbeBench } from './fuzz-probes.js';

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

const seed = positiveInt('BENCH_SEED', 1);
console.log(formatProbeBench(runProbeBench({ scenarios: positiveInt('BENCH_PROBE_SCENARIOS', 20_000), seed })));
const evictionCases = positiveInt('BENCH_EVICTION_CASES', 20_000);
console.log(formatEvictionBench(runEvictionBench({ cases: evictionCases, seed }), evictionCases));
