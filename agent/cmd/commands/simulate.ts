import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { simulateCrashLoop, type CrashLoopScenario, type CrashLoopSimulation } from '../../lifecycle/crashloop-simulation.js';
import { PROBE_TYPES, ProbeScenarioRunner, parseProbeScenario, type ProbeScenarioEvent, type ProbeSimulation } from '../../prober/index.js';
import { InvalidInputError } from '../../util/invalid-input.js';

/** Formats seconds compactly: integers as is, fractions to at most 3 decimals. */
function sec(value: number | null): string {
  if (value === null) return '—';
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function describeEvent(event: ProbeScenarioEvent): string {
  switch (event.kind) {
    case 'containerStart':
      return `containerStart ${event.containerId}`;
    case 'containerExit':
      return `containerExit code ${event.exitCode}`;
    case 'tick':
      return `tick ${event.probe} → ${event.outcome}`;
    case 'deletePod':
      return 'deletePod';
  }
}

/** A readable timeline of a probe scenario: one row per event with what the kubelet did in response. */
export function renderProbeTimeline(input: unknown): { lines: string[]; outcome: ProbeSimulation } {
  const scenario = parseProbeScenario(input);
  const runner = new ProbeScenarioRunner(scenario.restartPolicy, scenario.probes);
  const rows: string[][] = [];
  let before = runner.outcome();
  scenario.events.forEach((event, i) => {
    runner.apply(event, `events[${i}]`);
    const after = runner.outcome();
    const did: string[] = [];
    for (const e of after.executed.slice(before.executed.length)) did.push(`ran ${e.probe}: ${e.outcome}`);
    if (event.kind === 'tick' && after.executed.length === before.executed.length) did.push('skipped');
    for (const r of after.results.slice(before.results.length)) did.push(`${r.probe}[${r.containerId}] = ${r.result}`);
    for (const k of after.kills.slice(before.kills.length)) {
      did.push(`KILL ${k.containerId} (${k.reason}${k.willRestart ? ', will restart' : ', no restart'})`);
    }
    for (const s of after.workersStopped.slice(before.workersStopped.length)) did.push(`${s.probe} worker stopped`);
    for (const r of after.ready.slice(before.ready.length)) did.push(r.ready ? 'READY' : 'NOT READY');
    rows.push([sec(event.t), describeEvent(event), did.join('; ')]);
    before = after;
  });
  const outcome = runner.outcome();
  const probeRows = PROBE_TYPES.flatMap((type) => {
    const p = outcome.effectiveProbes[type];
    return p === undefined
      ? []
      : [[type, String(p.initialDelaySeconds), String(p.periodSeconds), String(p.timeoutSeconds), String(p.successThreshold), String(p.failureThreshold)]];
  });
  const lines = [
    `restartPolicy: ${scenario.restartPolicy}`,
    '',
    ...(probeRows.length === 0
      ? ['no probes defined']
      : table(['probe', 'initialDelaySeconds', 'periodSeconds', 'timeoutSeconds', 'successThreshold', 'failureThreshold'], probeRows)),
    '',
    ...table(['t (s)', 'event', 'what the kubelet does'], rows),
    '',
    `kills: ${outcome.kills.length}, probes executed: ${outcome.executed.length}, ready at the end: ${runner.isReady() ? 'yes' : 'no'}`,
  ];
  return { lines, outcome };
}

/** A readable table of a crash-loop scenario. */
export function renderCrashLoop(input: unknown): { lines: string[]; outcome: CrashLoopSimulation } {
  // simulateCrashLoop validates its input itself and names the offending field.
  const outcome = simulateCrashLoop(input as CrashLoopScenario);
  const rows = outcome.instances.map((i) => [
    String(i.instance),
    sec(i.startedAt),
    sec(i.finishedAt),
    String(i.exitCode),
    String(i.restartCount),
    i.restartAt === null ? 'never' : sec(i.restartAt),
    sec(i.waitSeconds),
    sec(i.backoffAfterRestartSeconds),
  ]);
  const waits = outcome.instances.filter((i) => i.waitSeconds !== null).map((i) => sec(i.waitSeconds));
  return {
    lines: [
      ...table(['#', 'started (s)', 'finished (s)', 'exit', 'restartCount', 'restart at (s)', 'CrashLoopBackOff wait (s)', 'next backoff (s)'], rows),
      '',
      `waits before each restart: ${waits.length === 0 ? 'none (never restarted)' : waits.join(', ')}`,
    ],
    outcome,
  };
}

async function readScenario(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${file}: invalid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function action(render: (input: unknown) => { lines: string[]; outcome: unknown }) {
  return async (file: string, options: { json?: boolean }): Promise<void> => {
    try {
      const { lines, outcome } = render(await readScenario(file));
      process.stdout.write(options.json === true ? `${JSON.stringify(outcome, null, 2)}\n` : `${lines.join('\n')}\n`);
    } catch (error) {
      const message = error instanceof InvalidInputError ? `${file}: ${error.message}` : error instanceof Error ? error.message : String(error);
      process.stderr.write(`kubelet-harness simulate: ${message}\n`);
      process.exitCode = 2;
    }
  };
}

/** `kubelet-harness simulate probes|crashloop FILE.json`: what would the kubelet do? */
export function register(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('Run a scripted scenario through the kubelet decision logic (see property-tests/scenarios/*.json)');
  simulate
    .command('probes')
    .description('Probe workers: which probes run, results-cache writes, kills, readiness (issue 6 simulateProbes)')
    .argument('<file>', 'scenario JSON: { restartPolicy, probes: { liveness?, readiness?, startup? }, events: [...] }')
    .option('--json', 'print the simulateProbes result as JSON')
    .action(action(renderProbeTimeline));
  simulate
    .command('crashloop')
    .description('CrashLoopBackOff: when each container instance is restarted (issue 6 simulateCrashLoop)')
    .argument('<file>', 'scenario JSON: { restartPolicy, runs: [{ durationSeconds, exitCode? }], backoff? }')
    .option('--json', 'print the simulateCrashLoop result as JSON')
    .action(action(renderCrashLoop));
}
