/**
 * What the kubelet reports, once things settle, for a generated pod scenario: an independent model
 * of kubelet-semantics.md §4.4 (init containers in order, a failed one ends the pod under Never and
 * is retried otherwise), §3.1 (which exits restart under each policy) and §4.5 (getPhase). It works
 * from the scripted behaviours alone, never from agent/status.
 *
 * The comparison is on a projection of the status that is stable once reached: a crash-looping
 * container is "restarting with its exit code" whatever instant of its loop is observed.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { appName, initName, type PodScenario } from '../arbitraries/pod-spec.js';

export type ContainerOutcome =
  /** Running now. */
  | 'running'
  /** Exited with this code and will not run again. */
  | `terminated(${number})`
  /** Exits with this code and is restarted over and over: a previous termination is on record. */
  | `restarting(${number})`
  /** Never created: waiting with no previous termination. */
  | 'not-started';

export interface StatusProjection {
  readonly phase: string;
  readonly init: Readonly<Record<string, ContainerOutcome>>;
  readonly app: Readonly<Record<string, ContainerOutcome>>;
  readonly initialized: 'True' | 'False';
  /** null: not determined by the spec (a crash-looping container is ready only while it runs). */
  readonly containersReady: 'True' | 'False' | null;
}

function restarts(policy: PodScenario['restartPolicy'], exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

/** The settled status the kubelet reports for the scenario's pod before it is deleted. */
export function expectedStatus(s: PodScenario): StatusProjection {
  const init: Record<string, ContainerOutcome> = {};
  const app: Record<string, ContainerOutcome> = {};
  const failing = s.inits.findIndex((b) => b.exitCode !== 0);
  if (failing >= 0) {
    s.inits.forEach((b, i) => {
      if (i < failing) init[initName(i)] = 'terminated(0)';
      else if (i === failing) init[initName(i)] = s.restartPolicy === 'Never' ? `terminated(${b.exitCode})` : `restarting(${b.exitCode})`;
      else init[initName(i)] = 'not-started';
    });
    s.apps.forEach((_, i) => (app[appName(i)] = 'not-started'));
    // getPhase: a failed init container fails the pod only under Never; otherwise app containers
    // that never ran keep it Pending while the init container is retried.
    return { phase: s.restartPolicy === 'Never' ? 'Failed' : 'Pending', init, app, initialized: 'False', containersReady: 'False' };
  }
  s.inits.forEach((_, i) => (init[initName(i)] = 'terminated(0)'));
  s.apps.forEach((b, i) => {
    if (b.kind === 'forever') app[appName(i)] = 'running';
    else app[appName(i)] = restarts(s.restartPolicy, b.exitCode) ? `restarting(${b.exitCode})` : `terminated(${b.exitCode})`;
  });
  const outcomes = Object.values(app);
  const anyRunning = outcomes.includes('running');
  const anyRestarting = outcomes.some((o) => o.startsWith('restarting'));
  let phase: string;
  if (anyRunning) phase = 'Running';
  else if (anyRestarting) phase = 'Running'; // all stopped, some restarting: Always, or OnFailure with a failure
  else if (outcomes.every((o) => o === 'terminated(0)')) phase = 'Succeeded';
  else phase = 'Failed'; // all stopped for good, some non-zero: Never
  let containersReady: StatusProjection['containersReady'];
  if (phase === 'Succeeded' || phase === 'Failed') containersReady = 'False';
  else if (outcomes.some((o) => o.startsWith('terminated'))) containersReady = 'False';
  else if (anyRestarting) containersReady = null;
  else containersReady = 'True';
  return { phase, init, app, initialized: 'True', containersReady };
}

/** The same projection of an observed pod status. */
export function observedStatus(pod: V1Pod, s: PodScenario): StatusProjection {
  const status = pod.status ?? {};
  const project = (name: string, list: readonly V1ContainerStatus[] | undefined): ContainerOutcome | `missing` | `unclear(${string})` => {
    const cs = list?.find((c) => c.name === name);
    if (!cs) return 'missing';
    const state = cs.state ?? {};
    const previous = cs.lastState?.terminated;
    // A container that terminated before and was started again, whatever its current instance does.
    if (previous) return `restarting(${state.terminated?.exitCode ?? previous.exitCode})`;
    if (state.running) return 'running';
    if (state.terminated) return `terminated(${state.terminated.exitCode})`;
    if (state.waiting) return 'not-started';
    return `unclear(${JSON.stringify({ state: cs.state, lastState: cs.lastState, restartCount: cs.restartCount })})`;
  };
  const init: Record<string, string> = {};
  const app: Record<string, string> = {};
  s.inits.forEach((_, i) => (init[initName(i)] = project(initName(i), status.initContainerStatuses)));
  s.apps.forEach((_, i) => (app[appName(i)] = project(appName(i), status.containerStatuses)));
  const condition = (type: string): 'True' | 'False' => (status.conditions?.find((c) => c.type === type)?.status === 'True' ? 'True' : 'False');
  return {
    phase: status.phase ?? '(none)',
    init: init as Record<string, ContainerOutcome>,
    app: app as Record<string, ContainerOutcome>,
    initialized: condition('Initialized'),
    containersReady: condition('ContainersReady'),
  };
}

/**
 * Differences between expected and observed, as sentences (empty = equal). A restart is recognised
 * by a previous termination, not by restartCount: a start that failed on an injected fault leaves a
 * created container behind and bumps the count without any termination, as upstream does.
 */
export function statusDifferences(expected: StatusProjection, observed: StatusProjection, pod: V1Pod): string[] {
  const diffs: string[] = [];
  if (expected.phase !== observed.phase) diffs.push(`phase: expected ${expected.phase}, observed ${observed.phase}`);
  for (const kind of ['init', 'app'] as const) {
    for (const [name, want] of Object.entries(expected[kind])) {
      const got = observed[kind][name];
      if (got === want) continue;
      // A start that failed on a fault leaves a never-started instance, which upstream keeps (init
      // pruning removes only exited ones) and then reports as the previous state: 'waiting', so the
      // real previous termination is hidden. Two restarts on record then stand for it (one is the
      // failed start's).
      const list = kind === 'init' ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
      const restarts = list?.find((c) => c.name === name)?.restartCount ?? 0;
      if (want.startsWith('restarting(') && got === want.replace('restarting', 'terminated') && restarts >= 2) continue;
      diffs.push(`${kind} container ${name}: expected ${want}, observed ${got ?? 'missing'}`);
    }
  }
  if (expected.initialized !== observed.initialized) diffs.push(`Initialized: expected ${expected.initialized}, observed ${observed.initialized}`);
  if (expected.containersReady !== null && expected.containersReady !== observed.containersReady) {
    diffs.push(`ContainersReady: expected ${expected.containersReady}, observed ${observed.containersReady}`);
  }
  // Whatever the spec says, the conditions must agree with the container statuses they summarise.
  const statuses = pod.status?.containerStatuses ?? [];
  const allReady = statuses.length === Object.keys(expected.app).length && statuses.every((c) => c.ready === true);
  if ((observed.containersReady === 'True') !== allReady) {
    diffs.push(`ContainersReady is ${observed.containersReady} but container readiness is [${statuses.map((c) => `${c.name}=${String(c.ready)}`).join(', ')}]`);
  }
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  if ((ready === 'True') !== (observed.containersReady === 'True')) diffs.push(`Ready (${ready}) differs from ContainersReady (${observed.containersReady}) without readiness gates`);
  return diffs;
}
