export type { EffectiveProbe, PodPhase, ProbeOutcome, ProbeResult, ProbeType, RestartPolicy } from './types.js';
export { INITIAL_RESULT, PROBE_TYPES } from './types.js';
export { effectiveProbe } from './effective-probe.js';
export { newWorkerState, stepWorker } from './worker.js';
export type { ContainerObservation, WorkerEffect, WorkerEvent, WorkerExitReason, WorkerObservation, WorkerState, WorkerStep } from './worker.js';
export { ResultsCache, type ResultListener, type ResultUpdate } from './results-cache.js';
export { ProbeManager, type WorkerEventResult, type WorkerKey } from './manager.js';
export { ProbeScenarioRunner, parseProbeScenario, simulateProbes } from './simulate.js';
export type { ProbeScenario, ProbeScenarioEvent, ProbeSimulation } from './simulate.js';
export { firstIterationDelaySeconds, nextIterationAt } from './schedule.js';
export { RunningProbeManager, type RunningProbeManagerOptions } from './running-manager.js';
export { seededRandom } from '../util/seeded-random.js';
export {
  MAX_PROBE_RETRIES,
  ProberError,
  buildHttpProbeRequest,
  execProbe,
  grpcProbe,
  httpProbe,
  probeOutcome,
  probeUserAgent,
  resolveContainerPort,
  runProbe,
  runProbeWithRetries,
  tcpProbe,
  type HandlerResult,
  type ProbeHandlerDeps,
  type ProbeRun,
  type ProbeTarget,
} from './handlers/index.js';
