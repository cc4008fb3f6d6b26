import fc from 'fast-check';
import type { V1Pod } from '@kubernetes/client-node';
import { ProbeScenarioRunner, newWorkerState, simulateProbes, stepWorker, type ProbeScenario, type WorkerEvent, type WorkerState } from '../../agent/prober/index.js';
import { simulateCrashLoop } from '../../agent/lifecycle/crashloop-simulation.js';
import { killGracePeriodSeconds } from '../../agent/lifecycle/kill-grace-period.js';
import type { NamedProperty } from './types.js';
import { probeScenarioArb, probeSetupArb } from './probe-arbitraries.js';
import { probeCommandsArb, runProbeModel } from './probe-model.js';

function named<Ts extends unknown[]>(name: string, property: fc.IPropertyWithHooks<Ts>): NamedProperty {
  return { name, property: property as unknown as fc.IPropertyWithHooks<unknown[]> };
}

/** Drops every `error` tick: prober errors must not change anything but the `executed` log. */
function withoutErrors(scenario: ProbeScenario): ProbeScenario {
  return { ...scenario, events: scenario.events.filter((e) => !(e.kind === 'tick' && e.outcome === 'error')) };
}

export const PROBE_MODEL_PROPERTY = 'probe worker matches the counting model (kills, readiness, gating, initial delay, worker stops)';

/** The model-based property; `commandsReplayPath` replays a failure printed by fast-check. */
export function probeModelProperty(commandsReplayPath?: string): NamedProperty {
  return named(PROBE_MODEL_PROPERTY, fc.property(probeSetupArb, probeCommandsArb(commandsReplayPath), (setup, commands) => runProbeModel(setup, commands)));
}

/** Probe-worker properties (fuzz target `probes`). */
export const probeProperties: NamedProperty[] = [
  probeModelProperty(),
  named(
    'nothing runs before initialDelaySeconds of the running container have passed',
    fc.property(probeScenarioArb, (scenario) => {
      // Feed events one by one so each executed probe is tied to the very tick that ran it.
      const runner = new ProbeScenarioRunner(scenario.restartPolicy, scenario.probes);
      let startedAt = 0;
      let running = false;
      for (const event of scenario.events) {
        const before = runner.outcome().executed.length;
        runner.apply(event);
        if (event.kind === 'containerStart') [startedAt, running] = [event.t, true];
        if (event.kind === 'containerExit') running = false;
        const ran = runner.outcome().executed.length - before;
        if (ran === 0) continue;
        if (event.kind !== 'tick' || ran !== 1) return false;
        const delay = runner.effectiveProbes[event.probe]?.initialDelaySeconds ?? 0;
        if (!running || Math.trunc(event.t - startedAt) < delay) return false;
      }
      return true;
    }),
  ),
  named(
    'a prober error changes nothing: repeating an error tick only adds to the executed log',
    fc.property(probeScenarioArb, (scenario) => {
      const repeated: ProbeScenario = {
        ...scenario,
        events: scenario.events.flatMap((e) => (e.kind === 'tick' && e.outcome === 'error' ? [e, e] : [e])),
      };
      const a = simulateProbes(scenario);
      const b = simulateProbes(repeated);
      const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
      const errorsRun = a.executed.filter((e) => e.outcome === 'error').length;
      return (
        same(a.results, b.results) &&
        same(a.kills, b.kills) &&
        same(a.ready, b.ready) &&
        same(a.workersStopped, b.workersStopped) &&
        same(a.executed.filter((e) => e.outcome !== 'error'), b.executed.filter((e) => e.outcome !== 'error')) &&
        b.executed.length === a.executed.length + errorsRun
      );
    }),
  ),
  named(
    'results are written only when an entry is added or changes',
    fc.property(probeScenarioArb, (scenario) => {
      const last = new Map<string, string>();
      for (const r of simulateProbes(scenario).results) {
        const key = `${r.probe}/${r.containerId}`;
        if (last.get(key) === r.result) return false;
        last.set(key, r.result);
      }
      return true;
    }),
  ),
  named(
    'the worker step is pure: it never mutates the state it is given',
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('iterate' as const), now: fc.integer({ min: 0, max: 20 }), running: fc.boolean(), started: fc.boolean(), id: fc.constantFrom('a', 'b') }),
          fc.record({ kind: fc.constant('probeCompleted' as const), outcome: fc.constantFrom('success' as const, 'failure' as const, 'error' as const) }),
          fc.constant({ kind: 'stop' as const }),
        ),
        { maxLength: 30 },
      ),
      fc.constantFrom('liveness' as const, 'readiness' as const, 'startup' as const),
      (steps, probeType) => {
        let state: WorkerState = newWorkerState(probeType, { initialDelaySeconds: 1, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 2 });
        for (const s of steps) {
          let event: WorkerEvent;
          if (s.kind === 'iterate') {
            if (state.phase === 'probing') continue;
            event = {
              kind: 'iterate',
              observation: {
                now: s.now,
                podPhase: 'Running',
                container: { containerId: s.id, state: s.running ? 'running' : 'terminated', startedAt: 0, started: s.started },
                restartPolicy: 'Always',
                podDeleting: false,
              },
            };
          } else if (s.kind === 'probeCompleted') {
            if (state.phase !== 'probing') continue;
            event = s;
          } else event = s;
          const frozen = Object.freeze({ ...state });
          const before = JSON.stringify(frozen);
          state = stepWorker(frozen, event).state;
          if (JSON.stringify(frozen) !== before) return false;
        }
        return true;
      },
    ),
  ),
];

const quickRunArb = fc.record({ durationSeconds: fc.double({ min: 0, max: 700, noNaN: true }), exitCode: fc.constantFrom(1, 2, 137) });

/** Restart backoff properties (also under fuzz target `probes`). */
export const crashLoopProperties: NamedProperty[] = [
  named(
    'crash loop waits double from 10 s to the 300 s cap and reset after a run longer than 600 s',
    fc.property(fc.array(quickRunArb, { minLength: 1, maxLength: 20 }), (runs) => {
      const { instances } = simulateCrashLoop({ restartPolicy: 'Always', runs });
      if (instances.length !== runs.length) return false;
      let previous: number | null = null;
      for (const [i, inst] of instances.entries()) {
        const run = runs[i] as { durationSeconds: number };
        const reset: boolean = previous === null || run.durationSeconds > 600;
        const expectedWait: number = reset ? 0 : (previous as number);
        const expectedBackoff: number = reset ? 10 : Math.min(2 * (previous as number), 300);
        if (inst.waitSeconds !== expectedWait || inst.backoffAfterRestartSeconds !== expectedBackoff) return false;
        if (inst.restartCount !== i || (inst.waitSeconds as number) > 300) return false;
        previous = expectedBackoff;
      }
      return true;
    }),
  ),
  named(
    'crash loop instances chain: each starts when the previous one restarts, after its full run, probe kills included',
    fc.property(
      fc.constantFrom('Always' as const, 'OnFailure' as const, 'Never' as const),
      fc.array(
        fc.record(
          { durationSeconds: fc.integer({ min: 0, max: 900 }), exitCode: fc.constantFrom(0, 1), killedBy: fc.constantFrom('LivenessProbe' as const, 'StartupProbe' as const) },
          { requiredKeys: ['durationSeconds', 'exitCode'] },
        ),
        { minLength: 1, maxLength: 15 },
      ),
      fc.record({ initialSeconds: fc.integer({ min: 1, max: 30 }), maxSeconds: fc.integer({ min: 1, max: 400 }), resetAfterSeconds: fc.integer({ min: 0, max: 900 }) }),
      (restartPolicy, runs, backoff) => {
        const { instances } = simulateCrashLoop({ restartPolicy, runs, backoff });
        for (const [i, inst] of instances.entries()) {
          const run = runs[i] as { durationSeconds: number; exitCode: number; killedBy?: string };
          if (inst.finishedAt - inst.startedAt !== run.durationSeconds || inst.exitCode !== run.exitCode) return false;
          const restarts =
            run.killedBy !== undefined ? restartPolicy !== 'Never' : restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && run.exitCode !== 0);
          if (restarts !== (inst.restartAt !== null)) return false;
          if (inst.restartAt === null) return i === instances.length - 1;
          if ((inst.waitSeconds as number) < 0 || (inst.waitSeconds as number) > backoff.maxSeconds) return false;
          const nextInstance = instances[i + 1];
          if (nextInstance !== undefined && nextInstance.startedAt !== inst.restartAt) return false;
        }
        return instances.length === runs.length || instances.at(-1)?.restartAt === null;
      },
    ),
  ),
  named(
    'kill grace period: a negative eviction max defers to the pod and a non-negative one caps it',
    fc.property(
      fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
      fc.integer({ min: -600, max: 600 }),
      (podGrace, deletionGrace, max) => {
        const pod: V1Pod = {
          metadata: deletionGrace === undefined ? {} : { deletionGracePeriodSeconds: deletionGrace },
          spec: { containers: [], ...(podGrace === undefined ? {} : { terminationGracePeriodSeconds: podGrace }) },
        };
        const soft = killGracePeriodSeconds(pod, { eviction: 'soft', maxPodGracePeriodSeconds: max });
        if (max < 0) return soft === killGracePeriodSeconds(pod, 'Other');
        return soft === Math.min(max, podGrace ?? 30) && soft >= 0;
      },
    ),
  ),
];

export const allProbeProperties: NamedProperty[] = [...probeProperties, ...crashLoopProperties];

/** All probe-target properties, with the model-based one set up to replay `commandsReplayPath`. */
export function probeTargetProperties(commandsReplayPath?: string): NamedProperty[] {
  if (commandsReplayPath === undefined) return allProbeProperties;
  return allProbeProperties.map((p) => (p.name === PROBE_MODEL_PROPERTY ? probeModelProperty(commandsReplayPath) : p));
}
