import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { formatResultLine, formatSummary, toJUnitXml, toJsonReport } from '../../../conformance/framework/reporters.js';
import { runSuites, selectSpecs } from '../../../conformance/framework/runner.js';
import { suites } from '../../../conformance/suites.js';
import { openTarget } from '../../../conformance/targets/open.js';

interface ConformanceOptions {
  runtimeEndpoint?: string;
  imageEndpoint?: string;
  focus?: string;
  skip?: string;
  junit?: string;
  json?: string;
  list?: boolean;
  provisionContainerd?: boolean;
}

/** `kubelet-harness conformance`: the main job. Runs the conformance specs against a runtime and reports. */
export function register(program: Command): void {
  program
    .command('conformance')
    .description(
      'Run the conformance specs against a CRI runtime (an embedded fake runtime when no endpoint is given); ' +
        'exits non-zero when any spec fails',
    )
    .addOption(new Option('--runtime-endpoint <endpoint>', 'CRI runtime endpoint, e.g. unix:///run/containerd/containerd.sock'))
    .addOption(new Option('--image-endpoint <endpoint>', 'CRI image endpoint (defaults to the runtime endpoint)'))
    .option('--provision-containerd', 'provision a private containerd, registry and CNI network (root on Debian) and test it')
    .option('--focus <regexp>', 'run only specs whose "<suite> <title>" matches')
    .option('--skip <regexp>', 'leave out specs whose "<suite> <title>" matches')
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json <file>', 'write a JSON report')
    .option('--list', 'list the specs that would run, then exit')
    .action(async (options: ConformanceOptions) => {
      process.exitCode = await runConformance(options);
    });
}

export async function runConformance(options: ConformanceOptions): Promise<number> {
  const focus = compile('--focus', options.focus);
  const skip = compile('--skip', options.skip);
  if (options.list) {
    const { selected } = selectSpecs(suites, { focus, skip });
    for (const { suite, spec } of selected) console.log(`${suite.name} ${spec.title}`);
    return 0;
  }
  const target = await openTarget({
    ...(options.runtimeEndpoint ? { runtimeEndpoint: options.runtimeEndpoint } : {}),
    ...(options.imageEndpoint ? { imageEndpoint: options.imageEndpoint } : {}),
    provisionContainerd: options.provisionContainerd === true,
    log: (line) => console.error(`[target] ${line}`),
  });
  const stop = (): void => {
    void target.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    console.log(`kubelet-harness conformance: ${target.kind} — ${target.description}\n`);
    const report = await runSuites(suites, target, {
      ...(focus ? { focus } : {}),
      ...(skip ? { skip } : {}),
      onResult: (r) => console.log(formatResultLine(r)),
    });
    console.log(formatSummary(report));
    if (options.junit) await writeFile(options.junit, toJUnitXml(report));
    if (options.json) await writeFile(options.json, toJsonReport(report));
    if (report.results.length === 0) {
      console.error('no spec matched the filters: nothing was checked');
      return 1;
    }
    return report.failed > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await target.close();
  }
}

function compile(flag: string, source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new Error(`${flag}: invalid regular expression: ${(err as Error).message}`);
  }
}
