/**
 * `npm run bench:fuzz`: the decision-logic fuzz figures of issue 6 in one run — probe-worker scenarios/s
 * (bench/fuzz-probes.ts) and eviction-ranking cases/s (bench/fuzz-eviction.ts), each with its baseline.
 * (BENCH_PROBE_SCENARIOS, BENCH_EVICTION_CASES, BENCH_SEED to change the workload.)
 */
import { formatEvictionBench, runEvictionBench } from './fuzz-eviction.js';
import { formatProbeBench, runProbeBench } from './fuzz-probes.js';
import { positiveIntFromEnv } from './measure.js';


const seed = positiveIntFromEnv('BENCH_SEED', 1);
console.log(formatProbeBench(runProbeBench({ scenarios: positiveIntFromEnv('BENCH_PROBE_SCENARIOS', 20_000), seed })));
const evictionCases = positiveIntFromEnv('BENCH_EVICTION_CASES', 20_000);
console.log(formatEvictionBench(runEvictionBench({ cases: evictionCases, seed }), evictionCases));
