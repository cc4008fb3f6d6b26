/** Vocabulary shared by the probe worker core, the manager and the scenario simulator. */

export type ProbeType = 'liveness' | 'readiness' | 'startup';
export const PROBE_TYPES: readonly ProbeType[] = ['liveness', 'readiness', 'startup'];

/** A value in a results cache (upstream `results.Result`). */
export type ProbeResult = 'Success' | 'Failure' | 'Unknown';

/**
 * What one run of a probe handler returned. `error` is a prober error (unresolvable named port,
 * unknown handler…), which the worker discards — distinct from a probe that ran and failed.
 */
export type ProbeOutcome = 'success' | 'failure' | 'error';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export const RESTART_POLICIES: readonly RestartPolicy[] = ['Always', 'OnFailure', 'Never'];

/** The five timing fields of a probe after API defaulting (semantics §2.1). */
export interface EffectiveProbe {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

/** Pod phase as the status manager reports it. */
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

/** The initial cache value a worker stores for a container ID it has not seen before (§2.3 step 3). */
export const INITIAL_RESULT: Readonly<Record<ProbeType, ProbeResult>> = {
  readiness: 'Failure',
  liveness: 'Success',
  startup: 'Unknown',
};
