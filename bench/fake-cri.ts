/**
 * Fake CRI bench, one run, printed figures and ratios:
 *   - unary Version RPCs per second at concurrency 1 and 16, against the fake runtime and against a bare
 *     @grpc/grpc-js server answering the same message on a unix socket (target: fake >= 80 % of bare);
 *   - full pod lifecycles per second (runp → create → start → stop → rm → stopp → rmp, the same
 *     sequence as bench/cri-roundtrip), sequentially and with BENCH_LIFECYCLE_CONCURRENCY (default 4)
 *     in flight, on the fake, on the transport alone (the same calls answered by a bare grpc-js server
 *     with canned messages: the fake's ceiling) and on containerd when CRI_ENDPOINT names one (or
 *     BENCH_CONTAINERD=1 provisions one through ci/), with the ratios (target: fake >= 100x containerd).
 *     The three are measured in interleaved rounds (./fake-cri-rounds.ts): each round runs every target
 *     back to back, so a ratio compares runtimes measured in the same moments, and the figures are the
 *     medians of the per-round ratios (this machine's speed drifts by tens of per cent within a minute).
 *     The mean time of each call shows where a sequential lifecycle's time goes, and the server thread's
 *     CPU time per lifecycle what the fake costs beyond the transport.
 * Servers run in worker threads; the load generator is a minimal gRPC unary client speaking HTTP/2 itself
 * (./grpc-unary-client.ts), identical for every target, so the figures are the runtimes' and not a
 * client's. The fake's sequential rate through grpc-js stubs is printed too, for comparison.
 * Run: npm run bench:fake-cri   (BENCH_VERSION_CALLS; BENCH_ROUNDS (7): rounds of both the Version and the lifecycle
 *   figures; BENCH_LIFECYCLES (150): the fake's and the transport's lifecycles per round, sequential and again in flight;
 *   BENCH_CONTAINERD_LIFECYCLES (14): containerd's per round; BENCH_LIFECYCLE_CONCURRENCY; BENCH_LOG_ROOT: where pod
 *   log files go; TMPDIR: where everything else goes, containerd's root and state included; both default to
 *   tmpfs /dev/shm, see useScratchTmpdir)
 */
import * as grpc from '@grpc/grpc-js';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { realClock } from '../agent/clock/index.js';
import { loadCriProto } from '../agent/runtime/proto.js';
import { median } from './cri-roundtrip-stats.js';
import { medianRatio, perRoundRatios, pooledRate, roundSteps, warmUpLifecycles, type Batch } from './fake-cri-rounds.js';
import { connectUnary, type UnaryMethod } from './grpc-unary-client.js';
import { positiveIntFromEnv, useScratchTmpdir } from './measure.js';

const clock = realClock;

interface StartedWorker {
  readonly endpoint: string;
  readonly worker: Worker;
}

async function startWorker(mode: 'fake' | 'bare'): Promise<StartedWorker> {
  const worker = new Worker(new URL('./fake-cri-worker.ts', import.meta.url), { workerData: { mode } });
  const ready = await new Promise<{ endpoint: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { endpoint: ready.endpoint, worker };
}

/** The worker thread's CPU time so far (user + system µs). */
function workerCpuMicros(w: StartedWorker): Promise<number> {
  return new Promise((resolve) => {
    w.worker.once('message', (m: { cpuMicros: number }) => resolve(m.cpuMicros));
    w.worker.postMessage('cpu');
  });
}

async function stopWorker(w: StartedWorker): Promise<void> {
  const stopped = new Promise((resolve) => w.worker.once('message', resolve));
  w.worker.postMessage('stop');
  await stopped;
  await w.worker.terminate();
}

/** Version calls per second with `concurrency` callers sharing one connection, `total` calls in all. */
async function versionRate(endpoint: string, concurrency: number, total: number): Promise<number> {
  const client = connectUnary(endpoint, clock);
  const version = methods.runtime['Version']!;
  const call = (): Promise<unknown> => client.call(version, { version: 'v1' }, 10_000);
  try {
    for (let i = 0; i < 200; i++) await call(); // connect and warm up the JIT
    let remaining = total;
    const start = clock.monotonic();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (remaining > 0) {
          remaining--;
          await call();
        }
      }),
    );
    return (total / (clock.monotonic() - start)) * 1000;
  } finally {
    client.close();
  }
}

/** The CRI calls of a lifecycle through bare generated stubs (no retries or deadline bookkeeping), identical for every target. */
type LoadClient = 'http2' | 'grpc-js';

type CallTimes = Map<string, { ms: number; calls: number }>;

interface RawCri {
  call<T>(service: 'runtime' | 'image', method: string, request: object): Promise<T>;
  /** Where each call's milliseconds are added up by method (null: not recorded). */
  timings: CallTimes | null;
  close(): void;
}

type MethodTable = Record<string, UnaryMethod<object, Record<string, unknown>>>;
/** The serialisers of every CRI method, from the same proto-loader definitions the stubs use. */
const methods = (() => {
  const proto = loadCriProto();
  return {
    runtime: proto.RuntimeService.service as unknown as MethodTable,
    image: proto.ImageService.service as unknown as MethodTable,
  };
})();

/**
 * The lifecycle's calls through the bench's minimal unary client (./grpc-unary-client.ts), or through
 * grpc-js stubs when `client` is 'grpc-js' (the figure earlier runs printed, kept for comparison).
 */
function rawCri(runtimeEndpoint: string, imageEndpoint: string, client: LoadClient = 'http2'): RawCri {
  const record = (method: string, start: number): void => {
    const timings = cri.timings;
    if (!timings) return;
    const m = timings.get(method) ?? { ms: 0, calls: 0 };
    m.ms += clock.monotonic() - start;
    m.calls++;
    timings.set(method, m);
  };
  let cri: RawCri;
  if (client === 'http2') {
    const runtime = connectUnary(runtimeEndpoint, clock);
    const image = imageEndpoint === runtimeEndpoint ? runtime : connectUnary(imageEndpoint, clock);
    cri = {
      timings: null,
      call: async <T>(service: 'runtime' | 'image', method: string, request: object) => {
        const start = clock.monotonic();
        try {
          return (await (service === 'runtime' ? runtime : image).call(methods[service][method]!, request, 120_000)) as T;
        } finally {
          record(method, start);
        }
      },
      close: () => {
        runtime.close();
        image.close();
      },
    };
    return cri;
  }
  const proto = loadCriProto();
  const runtime = new proto.RuntimeService(runtimeEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  const image = new proto.ImageService(imageEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  cri = {
    timings: null,
    call: <T>(service: 'runtime' | 'image', method: string, request: object) =>
      new Promise<T>((resolve, reject) => {
        const stub = service === 'runtime' ? runtime : image;
        const start = clock.monotonic();
        stub[method]!.call(stub, request, { deadline: Date.now() + 120_000 }, (err: Error | null, res: T) => {
          record(method, start);
          if (err) reject(err);
          else resolve(res);
        });
      }),
    close: () => {
      runtime.close();
      image.close();
    },
  };
  return cri;
}

async function podLifecycle(cri: RawCri, image: string, logDir: string, i: number): Promise<void> {
  const sandboxConfig = {
    metadata: { name: `bench-${i}`, uid: `bench-${process.pid}-${i}`, namespace: 'kubelet-harness-bench', attempt: 0 },
    logDirectory: logDir,
  };
  const { podSandboxId } = await cri.call<{ podSandboxId: string }>('runtime', 'RunPodSandbox', { config: sandboxConfig });
  const { containerId } = await cri.call<{ containerId: string }>('runtime', 'CreateContainer', {
    podSandboxId,
    config: { metadata: { name: 'sleeper', attempt: 0 }, image: { image }, command: ['sleep', '3600'], logPath: `sleeper-${i}.log` },
    sandboxConfig,
  });
  await cri.call('runtime', 'StartContainer', { containerId });
  await cri.call('runtime', 'StopContainer', { containerId, timeout: 0 });
  await cri.call('runtime', 'RemoveContainer', { containerId });
  await cri.call('runtime', 'StopPodSandbox', { podSandboxId });
  await cri.call('runtime', 'RemovePodSandbox', { podSandboxId });
}

const LIFECYCLE_CALLS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'StopPodSandbox', 'RemovePodSandbox'];

/** A runtime under test, with its own connection and log directory for the whole run. */
interface Target {
  readonly name: 'fake' | 'transport' | 'containerd';
  readonly cri: RawCri;
  readonly image: string;
  readonly logDir: string;
  /** The server's worker thread, when it runs in this bench (its CPU time is read around each batch). */
  readonly server?: StartedWorker;
  /** Lifecycles started so far: names each pod uniquely over the run. */
  made: number;
  /** Per round (index), the batches at each concurrency. */
  readonly batches: Map<number, Measured[]>[];
  /** Milliseconds per method over the measured sequential batches. */
  readonly sequentialCalls: CallTimes;
}

interface Measured extends Batch {
  /** CPU µs the server's thread spent on the batch. */
  readonly cpuMicros?: number;
}

function target(name: Target['name'], runtimeEndpoint: string, imageEndpoint: string, image: string, server?: StartedWorker, client: LoadClient = 'http2'): Target {
  return {
    name,
    cri: rawCri(runtimeEndpoint, imageEndpoint, client),
    image,
    logDir: mkdtempSync(join(logRoot, `${name}-`)),
    ...(server ? { server } : {}),
    made: 0,
    batches: [],
    sequentialCalls: new Map(),
  };
}

/** `n` lifecycles, `concurrency` of them in flight at a time (1 = sequential); sequential calls are timed by method when `measured`. */
async function runBatch(t: Target, n: number, concurrency: number, measured: boolean): Promise<Measured> {
  t.cri.timings = measured && concurrency === 1 ? t.sequentialCalls : null;
  const cpuBefore = t.server ? await workerCpuMicros(t.server) : 0;
  let left = n;
  const start = clock.monotonic();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (left > 0) {
        left--;
        await podLifecycle(t.cri, t.image, t.logDir, t.made++);
      }
    }),
  );
  const ms = clock.monotonic() - start;
  t.cri.timings = null;
  if (!t.server) return { lifecycles: n, ms };
  return { lifecycles: n, ms, cpuMicros: (await workerCpuMicros(t.server)) - cpuBefore };
}

/** Pulls the image and runs the warm-up lifecycles (not measured), sequentially. */
async function warmUp(t: Target, measured: number): Promise<void> {
  await t.cri.call('image', 'PullImage', { image: { image: t.image } });
  await runBatch(t, warmUpLifecycles(measured), 1, false);
}

function record(t: Target, round: number, concurrency: number, batch: Measured): void {
  const rounds = (t.batches[round] ??= new Map());
  rounds.set(concurrency, [...(rounds.get(concurrency) ?? []), batch]);
}

/** The target's rate in each round (its batches of the round pooled). */
function roundRates(t: Target, concurrency: number): number[] {
  return t.batches.map((byConcurrency) => pooledRate(byConcurrency.get(concurrency) ?? []));
}

/** Its batches of every round pooled. */
function overallRate(t: Target, concurrency: number): number {
  return pooledRate(t.batches.flatMap((byConcurrency) => byConcurrency.get(concurrency) ?? []));
}

/** Server CPU µs per lifecycle: pooled over every sequential batch, and per round. */
function serverCpu(t: Target): { pooled: number; perRound: number[] } {
  const perLifecycle = (batches: readonly Measured[]): number =>
    batches.reduce((sum, b) => sum + (b.cpuMicros ?? 0), 0) / batches.reduce((sum, b) => sum + b.lifecycles, 0);
  return {
    pooled: perLifecycle(t.batches.flatMap((r) => r.get(1) ?? [])),
    perRound: t.batches.map((r) => perLifecycle(r.get(1) ?? [])),
  };
}

/** Mean milliseconds per call of each lifecycle RPC over the measured sequential batches, as the client saw them. */
function perCall(t: Target): Record<string, number> {
  return Object.fromEntries(LIFECYCLE_CALLS.map((m) => [m, (t.sequentialCalls.get(m)?.ms ?? 0) / (t.sequentialCalls.get(m)?.calls || 1)]));
}

/**
 * Where the pod log files go: BENCH_LOG_ROOT, else a fresh directory under TMPDIR, which is tmpfs
 * (/dev/shm) unless the environment set it (as containerd's root and state are). StartContainer creates a log file on both runtimes, and on
 * this VM's disk that costs from tens of microseconds to a millisecond depending on other processes'
 * churn (ext4 without a journal scans past recently deleted inodes), which would make the disk, not the
 * runtimes, the thing compared. Every phase's directory lives under this one root, removed only when the
 * bench ends, so no phase pays for another's deletions.
 */
/** The temp dir as the environment gave it (the disk, usually), before the bench points TMPDIR at tmpfs. */
const diskTmp = tmpdir();
/** The runtimes' files (containerd's root and state too) go to tmpfs unless TMPDIR says otherwise. */
const scratch = useScratchTmpdir();

function chooseLogRoot(): { root: string; why: string } {
  const given = process.env['BENCH_LOG_ROOT'];
  if (given) {
    mkdirSync(given, { recursive: true });
    return { root: mkdtempSync(join(given, 'fake-cri-bench-')), why: 'BENCH_LOG_ROOT' };
  }
  return { root: mkdtempSync(join(tmpdir(), 'fake-cri-bench-')), why: scratch.why };
}

const { root: logRoot, why: logRootWhy } = chooseLogRoot();

/**
 * Mean microseconds to create (and close) a new file in `parent`, as StartContainer's log file is
 * created: the kernel's share of a lifecycle, which on a disk varies with other processes' file deletions.
 */
function fileCreateMicros(parent: string, label: string, files = 100): number {
  const dir = mkdtempSync(join(parent, `probe-${label}-`));
  try {
    const start = clock.monotonic();
    for (let i = 0; i < files; i++) closeSync(openSync(join(dir, `${i}.log`), 'a', 0o640));
    return ((clock.monotonic() - start) / files) * 1000;
  } finally {
    if (parent !== logRoot) rmSync(dir, { recursive: true, force: true });
  }
}

/** The line saying where the log files go and why (with the disk's file-creation cost when they are not on it). */
function logRootLine(diskMicros: number | null): string {
  const where = `  pod log files: ${logRoot} (${logRootWhy}; BENCH_LOG_ROOT=DIR to choose): both runtimes write their pod log files there`;
  if (diskMicros === null) return where;
  return `${where}; creating a file on the disk (${diskTmp}) costs ${diskMicros.toFixed(0)} µs right now, which would otherwise be part of both runtimes' figures`;
}

const fmt = (n: number): string => n.toFixed(n >= 100 ? 0 : 2).padStart(8);

async function main(): Promise<void> {
  const calls = positiveIntFromEnv('BENCH_VERSION_CALLS', 4_000);
  const rounds = positiveIntFromEnv('BENCH_ROUNDS', 7);
  const lifecycles = positiveIntFromEnv('BENCH_LIFECYCLES', 150);
  const containerdLifecycles = positiveIntFromEnv('BENCH_CONTAINERD_LIFECYCLES', 14);
  const concurrency = positiveIntFromEnv('BENCH_LIFECYCLE_CONCURRENCY', 4);
  if (lifecycles < 2) throw new Error('BENCH_LIFECYCLES must be at least 2 (each round runs them in two halves)');
  console.log(`node ${process.version}, ${calls} Version calls per measurement, median of ${rounds} interleaved rounds\n`);

  const fake = await startWorker('fake');
  const bare = await startWorker('bare');
  const busybox = 'docker.io/library/busybox:1.36';
  const createMicros = { before: 0, after: 0, disk: null as number | null };
  const endpoint = process.env['CRI_ENDPOINT'];
  const withContainerd = Boolean(endpoint) || process.env['BENCH_CONTAINERD'] === '1';
  let containerd: Awaited<ReturnType<typeof provisionContainerd>> | null = null;
  const targets: Target[] = [];
  try {
    await versionFigures(fake, bare, calls, rounds);
    if (withContainerd) containerd = await provisionContainerd(endpoint);
    const fakeT = target('fake', fake.endpoint, fake.endpoint, busybox, fake);
    const transportT = target('transport', bare.endpoint, bare.endpoint, busybox, bare);
    const realT = containerd ? target('containerd', containerd.info.runtimeEndpoint, containerd.info.imageEndpoint, containerd.info.images.busybox) : null;
    targets.push(fakeT, transportT, ...(realT ? [realT] : []));
    const modes = concurrency > 1 ? [1, concurrency] : [1];
    // The same warm-up rule for every target: a tenth of what it will run measured.
    await warmUp(fakeT, lifecycles * rounds * modes.length);
    await warmUp(transportT, lifecycles * rounds * modes.length);
    if (realT) await warmUp(realT, containerdLifecycles * rounds * modes.length);
    createMicros.before = fileCreateMicros(logRoot, 'before');
    for (let r = 0; r < rounds; r++) {
      for (const c of modes) {
        for (const step of roundSteps([fakeT, transportT], lifecycles, realT ? { target: realT, lifecycles: containerdLifecycles } : null, r)) {
          record(step.target, r, c, await runBatch(step.target, step.lifecycles, c, true));
        }
      }
    }
    createMicros.after = fileCreateMicros(logRoot, 'after');
    if (diskTmp !== tmpdir()) createMicros.disk = fileCreateMicros(diskTmp, 'disk');
    // For comparison only: the fake through grpc-js stubs, one phase with the same warm-up rule.
    const stubs = target('fake', fake.endpoint, fake.endpoint, busybox, undefined, 'grpc-js');
    targets.push(stubs);
    await warmUp(stubs, lifecycles);
    const stubRate = pooledRate([await runBatch(stubs, lifecycles, 1, false)]);

    const rate = (t: Target, c: number): string => fmt(overallRate(t, c));
    const par = concurrency > 1;
    const rates = (t: Target): string => `${rate(t, 1)} lifecycles/s sequential${par ? `, ${rate(t, concurrency)} with ${concurrency} in flight` : ''}`;
    const percent = (a: Target, b: Target, c: number): string => `${Math.round(medianRatio(roundRates(a, c), roundRates(b, c)) * 100)} %`;
    console.log(
      `\npod lifecycles (runp→create→start→stop→rm→stopp→rmp) in ${rounds} interleaved rounds; each round runs the fake and the transport in two ` +
        `halves around ${realT ? "containerd's batch" : 'each other'}, sequentially${par ? `, then the same with ${concurrency} in flight` : ''}; rates pooled over the rounds:`,
    );
    console.log(`  fake        ${rates(fakeT)}  (${lifecycles} lifecycles per round each)`);
    console.log(
      `  transport   ${rates(transportT)}  (the same calls answered by a bare grpc-js server with canned messages; the fake reaches ` +
        `${percent(fakeT, transportT, 1)}${par ? ` / ${percent(fakeT, transportT, concurrency)}` : ''} of it, medians of per-round ratios)`,
    );
    if (realT) console.log(`  containerd  ${rates(realT)}  (${containerdLifecycles} lifecycles per round each at ${containerd!.info.runtimeEndpoint})`);
    else console.log('  containerd  (not measured: set CRI_ENDPOINT=unix:///... or BENCH_CONTAINERD=1 to provision one)');
    console.log(logRootLine(createMicros.disk));
    console.log(
      `    creating a file in the log directory (kernel; part of StartContainer): ${createMicros.before.toFixed(0)} µs before the rounds, ` +
        `${createMicros.after.toFixed(0)} µs after`,
    );
    console.log(`    through grpc-js stubs instead of the bench's http2 client: fake ${fmt(stubRate).trim()} lifecycles/s sequential`);
    for (const t of [fakeT, transportT, ...(realT ? [realT] : [])]) console.log(perCallLine(t.name, perCall(t)));
    const fakeCpu = serverCpu(fakeT);
    const bareCpu = serverCpu(transportT);
    const ownWork = fakeCpu.perRound.map((f, i) => f - bareCpu.perRound[i]!);
    console.log(
      `    server thread CPU per sequential lifecycle (CPU time, which other processes' load does not inflate as it does wall time; pooled over the rounds): ` +
        `fake ${fakeCpu.pooled.toFixed(0)} µs, transport ${bareCpu.pooled.toFixed(0)} µs; the fake's own work ${(fakeCpu.pooled - bareCpu.pooled).toFixed(0)} µs ` +
        `(per round ${ownWork.map((d) => d.toFixed(0)).join(' ')})`,
    );
    if (!realT) return;
    const ratios = (a: Target, c: number): string => {
      const each = perRoundRatios(roundRates(a, c), roundRates(realT, c));
      return `${medianRatio(roundRates(a, c), roundRates(realT, c)).toFixed(0)}x ${c === 1 ? 'sequential' : `with ${c} in flight`} (rounds ${each.map((x) => x.toFixed(0)).join(' ')})`;
    };
    console.log(`  fake/containerd ${modes.map((c) => ratios(fakeT, c)).join(', ')}  (target >= 100x; medians of per-round ratios)`);
    console.log(`  transport/containerd ${modes.map((c) => ratios(transportT, c)).join(', ')}: the ceiling the transport allows the fake`);
  } finally {
    for (const t of targets) t.cri.close();
    try {
      await stopWorker(bare);
      await stopWorker(fake);
    } finally {
      await containerd?.stop();
    }
  }
}

/** Version calls per second on both servers, in interleaved rounds, with the medians of the per-round ratios. */
async function versionFigures(fake: StartedWorker, bare: StartedWorker, calls: number, rounds: number): Promise<void> {
  const results: Record<string, number[]> = { 'bare c1': [], 'fake c1': [], 'bare c16': [], 'fake c16': [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither side always runs on a warmer machine.
    const order: [string, string][] = r % 2 === 0 ? [['bare', bare.endpoint], ['fake', fake.endpoint]] : [['fake', fake.endpoint], ['bare', bare.endpoint]];
    for (const c of [1, 16]) for (const [name, endpoint] of order) results[`${name} c${c}`]!.push(await versionRate(endpoint, c, calls));
  }
  for (const c of [1, 16]) {
    const bares = results[`bare c${c}`]!;
    const fakes = results[`fake c${c}`]!;
    // Each round measures both servers back to back, so the per-round ratio cancels most load drift.
    const ratios = perRoundRatios(fakes, bares);
    console.log(
      `Version, concurrency ${String(c).padStart(2)}: bare grpc-js ${fmt(median(bares))} RPC/s   fake ${fmt(median(fakes))} RPC/s   ` +
        `fake/bare ${(median(ratios) * 100).toFixed(1)} % (median of per-round ratios ${ratios.map((x) => `${Math.round(x * 100)}%`).join(' ')}; target >= 80 %)`,
    );
  }
}

async function provisionContainerd(endpoint: string | undefined) {
  const { provisionContainerdTarget } = await import('../ci/environment.js');
  return provisionContainerdTarget({ runtimeEndpoint: endpoint || undefined });
}

/** Where a sequential lifecycle's time goes, call by call, as the client saw it. */
function perCallLine(name: string, perCallMs: Record<string, number>): string {
  const short: Record<string, string> = {
    RunPodSandbox: 'runp',
    CreateContainer: 'create',
    StartContainer: 'start',
    StopContainer: 'stop',
    RemoveContainer: 'rm',
    StopPodSandbox: 'stopp',
    RemovePodSandbox: 'rmp',
  };
  const ms = (v: number): string => (v >= 10 ? v.toFixed(0) : v.toFixed(2));
  const total = Object.values(perCallMs).reduce((a, b) => a + b, 0);
  return `    ${`${name}:`.padEnd(12)} ms per call, sequential: ${LIFECYCLE_CALLS.map((m) => `${short[m]} ${ms(perCallMs[m]!)}`).join('  ')}  (sum ${ms(total)})`;
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(logRoot, { recursive: true, force: true }));
