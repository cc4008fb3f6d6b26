import fc from 'fast-check';
import type { ProbeOutcome, ProbeScenario, ProbeScenarioEvent, ProbeType, RestartPolicy } from '../../agent/prober/index.js';

/** Small probe specs so thresholds and delays are actually reached within a short history. */
export interface ProbeSetup {
  readonly restartPolicy: RestartPolicy;
  readonly probes: {
    readonly liveness?: { initialDelaySeconds: number; failureThreshold: number };
    readonly readiness?: { initialDelaySeconds: number; successThreshold: number; failureThreshold: number };
    readonly startup?: { initialDelaySeconds: number; failureThreshold: number };
  };
}

export const probeSetupArb: fc.Arbitrary<ProbeSetup> = fc.record({
  restartPolicy: fc.constantFrom<RestartPolicy>('Always', 'OnFailure', 'Never'),
  probes: fc.record(
    {
      liveness: fc.record({ initialDelaySeconds: fc.integer({ min: 0, max: 4 }), failureThreshold: fc.integer({ min: 1, max: 4 }) }),
      readiness: fc.record({
        initialDelaySeconds: fc.integer({ min: 0, max: 4 }),
        successThreshold: fc.integer({ min: 1, max: 3 }),
        failureThreshold: fc.integer({ min: 1, max: 3 }),
      }),
      startup: fc.record({ initialDelaySeconds: fc.integer({ min: 0, max: 3 }), failureThreshold: fc.integer({ min: 1, max: 3 }) }),
    },
    { requiredKeys: [] },
  ),
});

/** Time steps in seconds, including fractions and 0 so truncation and same-instant events occur. */
export const dtArb = fc.constantFrom(0, 0.5, 1, 1, 1, 2, 3, 5);

export const outcomeArb = fc.constantFrom<ProbeOutcome>('success', 'success', 'failure', 'failure', 'error');
export const probeTypeArb = fc.constantFrom<ProbeType>('liveness', 'readiness', 'startup');

/** What the history generator wants next; `compileScenario` drops what the kubelet could not produce. */
export type ScenarioIntent =
  | { kind: 'tick'; probe: ProbeType; outcome: ProbeOutcome; dt: number }
  | { kind: 'start'; dt: number }
  | { kind: 'exit'; exitCode: number; dt: number }
  | { kind: 'delete'; dt: number };

const DTS = [1, 1, 1, 0, 0.5, 2, 3, 5] as const;
const WEIGHTED_OUTCOMES: readonly ProbeOutcome[] = ['success', 'failure', 'success', 'failure', 'error'];

/**
 * Every intent the generator can pick, repeated by weight (ticks 120 : exits 24 : starts 16 : deletes 8),
 * simplest first so shrinking towards index 0 reads well. Picking an index is far cheaper for
 * fast-check than composing records, which matters at 100,000 runs.
 */
const INTENTS: readonly ScenarioIntent[] = [
  ...DTS.flatMap((dt) =>
    (['liveness', 'readiness', 'startup'] as const).flatMap((probe) => WEIGHTED_OUTCOMES.map((outcome): ScenarioIntent => ({ kind: 'tick', probe, outcome, dt }))),
  ),
  ...DTS.flatMap((dt) => [0, 1, 137].map((exitCode): ScenarioIntent => ({ kind: 'exit', exitCode, dt }))),
  ...DTS.flatMap((dt): ScenarioIntent[] => [{ kind: 'start', dt }, { kind: 'start', dt }]),
  ...DTS.map((dt): ScenarioIntent => ({ kind: 'delete', dt })),
];

export const intentArb: fc.Arbitrary<ScenarioIntent> = fc.integer({ min: 0, max: INTENTS.length - 1 }).map((i) => INTENTS[i] as ScenarioIntent);

/** Turns intents into a valid scenario (always starting with a container). */
export function compileScenario(setup: ProbeSetup, intents: readonly ScenarioIntent[]): ProbeScenario {
  const events: ProbeScenarioEvent[] = [{ t: 0, kind: 'containerStart', containerId: 'c0' }];
  let t = 0;
  let running = true;
  let deleting = false;
  let terminal = false;
  let instances = 1;
  for (const intent of intents) {
    t += intent.dt;
    switch (intent.kind) {
      case 'tick':
        if (setup.probes[intent.probe] !== undefined) events.push({ t, kind: 'tick', probe: intent.probe, outcome: intent.outcome });
        break;
      case 'start':
        if (running || deleting || terminal) break;
        events.push({ t, kind: 'containerStart', containerId: `c${instances++}` });
        running = true;
        break;
      case 'exit':
        if (!running) break;
        events.push({ t, kind: 'containerExit', exitCode: intent.exitCode });
        running = false;
        terminal = setup.restartPolicy === 'Never' || (setup.restartPolicy === 'OnFailure' && intent.exitCode === 0);
        break;
      case 'delete':
        if (deleting) break;
        events.push({ t, kind: 'deletePod' });
        deleting = true;
        break;
    }
  }
  return { restartPolicy: setup.restartPolicy, probes: setup.probes, events };
}

/** Valid random scenarios for simulateProbes. */
export const probeScenarioArb: fc.Arbitrary<ProbeScenario> = fc
  .tuple(probeSetupArb, fc.array(intentArb, { maxLength: 80, size: 'large' }))
  .map(([setup, intents]) => compileScenario(setup, intents));
