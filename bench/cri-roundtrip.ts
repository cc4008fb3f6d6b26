/**
 * CRI round-trip bench against a real containerd (provisioned by ci/, or CRI_ENDPOINT), measured in-process with
 * the project's CRI client:
 *   - Version through a bare grpc-js stub (baseline) and through the CRI client (ratio = client overhead);
 *   - a full pod lifecycle runp → create → start → stop → rm → stopp → rmp, with per-step medians, and its ratio
 *     to the Version baseline.
 * Run: npm run bench:cri-roundtrip   (BENCH_VERSION_ITERATIONS, BENCH_LIFECYCLE_ITERATIONS to change the counts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { realClock } from '../agent/clock/index.js';
import { createCriClient, type CriClient } from '../agent/runtime/cri-client.js';
import { loadCriProto } from '../agent/runtime/proto.js';
import { provisionContainerdTarget } from '../ci/environment.js';
import { formatSummary, summarize } from './cri-roundtrip-stats.js';
import { positiveIntFromEnv } from './measure.js';

const clock = realClock;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = clock.monotonic();
  await fn();
  return clock.monotonic() - start;
}

/** Version through a bare generated stub: no deadlines bookkeeping, retries or error mapping. */
function rawVersion(endpoint: string): { call: () => Promise<void>; close: () => void } {
  const cri = loadCriProto();
  const stub = new cri.RuntimeService(endpoint, grpc.credentials.createInsecure());
  return {
    call: () =>
      new Promise<void>((resolve, reject) => {
        stub.Version({ version: 'v1' }, { deadline: Date.now() + 10_000 }, (error) => (error ? reject(error) : resolve()));
      }),
    close: () => stub.close(),
  };
}

const STEPS = ['runp', 'create', 'start', 'stop', 'rm', 'stopp', 'rmp'] as const;
type Step = (typeof STEPS)[number];

async function podLifecycle(cri: CriClient, image: string, logDir: string, i: number): Promise<Record<Step, number>> {
  const sandboxConfig = {
    metadata: { name: `bench-${i}`, uid: `bench-${process.pid}-${i}`, namespace: 'kubelet-harness-bench', attempt: 0 },
    logDirectory: logDir,
  };
  const t = {} as Record<Step, number>;
  let podSandboxId = '';
  let containerId = '';
  t.runp = await timed(async () => ({ podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig })));
  t.create = await timed(
    async () =>
      ({ containerId } = await cri.createContainer({
        podSandboxId,
        config: { metadata: { name: 'sleeper', attempt: 0 }, image: { image }, command: ['sleep', '3600'], logPath: `sleeper-${i}.log` },
        sandboxConfig,
      })),
  );
  t.start = await timed(() => cri.startContainer({ containerId }));
  t.stop = await timed(() => cri.stopContainer({ containerId, timeout: 0 }));
  t.rm = await timed(() => cri.removeContainer({ containerId }));
  t.stopp = await timed(() => cri.stopPodSandbox({ podSandboxId }));
  t.rmp = await timed(() => cri.removePodSandbox({ podSandboxId }));
  return t;
}

async function main(): Promise<void> {
  const versionIterations = positiveIntFromEnv('BENCH_VERSION_ITERATIONS', 300);
  const lifecycleIterations = positiveIntFromEnv('BENCH_LIFECYCLE_ITERATIONS', 20);
  const provisionStart = clock.monotonic();
  const target = await provisionContainerdTarget({ runtimeEndpoint: process.env['CRI_ENDPOINT'] || undefined });
  console.log(`target: ${target.info.kind} ${target.info.runtimeEndpoint} (provisioned in ${Math.round(clock.monotonic() - provisionStart)} ms)`);
  const logDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-bench-'));
  const cri = createCriClient({ runtimeEndpoint: target.info.runtimeEndpoint, imageEndpoint: target.info.imageEndpoint });
  const raw = rawVersion(target.info.runtimeEndpoint);
  try {
    const version = await cri.version({ version: 'v1' });
    console.log(`runtime: ${version.runtimeName} ${version.runtimeVersion} (CRI ${version.runtimeApiVersion}), node ${process.version}\n`);
    for (let i = 0; i < 20; i++) {
      await raw.call();
      await cri.version({});
    }
    // Interleaved so both see the same machine load.
    const rawSamples: number[] = [];
    const clientSamples: number[] = [];
    for (let i = 0; i < versionIterations; i++) {
      rawSamples.push(await timed(raw.call));
      clientSamples.push(await timed(() => cri.version({})));
    }
    const rawSummary = summarize(rawSamples);
    const clientSummary = summarize(clientSamples);
    console.log(formatSummary('Version (bare grpc-js stub)', rawSummary));
    console.log(formatSummary('Version (CRI client)', clientSummary));

    await cri.pullImage({ image: { image: target.info.images.busybox } });
    await podLifecycle(cri, target.info.images.busybox, logDir, -1); // warm-up: pulls the pause image
    const totals: number[] = [];
    const perStep = new Map<Step, number[]>(STEPS.map((step) => [step, []]));
    for (let i = 0; i < lifecycleIterations; i++) {
      const steps = await podLifecycle(cri, target.info.images.busybox, logDir, i);
      totals.push(STEPS.reduce((sum, step) => sum + steps[step], 0));
      for (const step of STEPS) perStep.get(step)?.push(steps[step]);
    }
    const lifecycle = summarize(totals);
    console.log(formatSummary('pod lifecycle runp→…→rmp', lifecycle));
    for (const step of STEPS) console.log(formatSummary(`  ${step}`, summarize(perStep.get(step) ?? [])));
    console.log('');
    console.log(`ratio CRI client / bare stub (Version median): ${(clientSummary.medianMs / rawSummary.medianMs).toFixed(2)}`);
    console.log(`ratio pod lifecycle / Version (medians):       ${(lifecycle.medianMs / clientSummary.medianMs).toFixed(0)}`);
  } finally {
    raw.close();
    cri.close();
    const report = await target.stop();
    rmSync(logDir, { recursive: true, force: true });
    console.log(`\nteardown: ${Math.round(report.durationMs)} ms${report.problems.length ? `, problems: ${report.problems.join('; ')}` : ', nothing left behind'}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
