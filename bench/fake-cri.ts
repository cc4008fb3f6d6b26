/**
 * Fake CRI bench, one run, printed figures and ratios:
 *   - unary Version RPCs per second at concurrency 1 and 16, against the fake runtime and against a bare
 *     @grpc/grpc-js server answering the same message on a unix socket (target: fake >= 80 % of bare);
 *   - full pod lifecycles per second (runp → create → start → stop → rm → stopp → rmp, the same
 *     sequence as bench/cri-roundtrip), sequentially and with BENCH_LIFECYCLE_CONCURRENCY (default 4)
 *     in flight, on the fake and on containerd when CRI_ENDPOINT names one (or BENCH_CONTAINERD=1
 *     provisions one through ci/), with the ratios (target: fake >= 100x); the same lifecycles against
 *     the bare server answering with canned messages give the transport's own rate, and the mean time
 *     of each call shows where a sequential lifecycle's time goes.
 * Servers run in worker threads; the load generator is a minimal gRPC unary client on node:http2
 * (./grpc-unary-client.ts), identical for every target, so the figures are the runtimes' and not a
 * client's. The fake's sequential rate through grpc-js stubs is printed too, for comparison.
 * Run: npm run bench:fake-cri   (BENCH_VERSION_CALLS, BENCH_ROUNDS, BENCH_LIFECYCLES, BENCH_CONTAINERD_LIFECYCLES,
 *   BENCH_LIFECYCLE_CONCURRENCY, BENCH_LOG_ROOT: where pod log files go; TMPDIR: where everything else goes,
 *   containerd's root and state included; both default to tmpfs /dev/shm, see useScratchTmpdir)
 */
import * as grpc from '@grpc/grpc-js';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { realClock } from '../agent/clock/index.js';
import { loadCriProto } from '../agent/runtime/proto.js';
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

interface RawCri {
  call<T>(service: 'runtime' | 'image', method: string, request: object): Promise<T>;
  /** Milliseconds spent in each method's calls, and how many, since the last reset. */
  readonly spent: Map<string, { ms: number; calls: number }>;
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
  const spent = new Map<string, { ms: number; calls: number }>();
  const record = (method: string, start: number): void => {
    const m = spent.get(method) ?? { ms: 0, calls: 0 };
    m.ms += clock.monotonic() - start;
    m.calls++;
    spent.set(method, m);
  };
  if (client === 'http2') {
    const runtime = connectUnary(runtimeEndpoint, clock);
    const image = imageEndpoint === runtimeEndpoint ? runtime : connectUnary(imageEndpoint, clock);
    return {
      spent,
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
  }
  const proto = loadCriProto();
  const runtime = new proto.RuntimeService(runtimeEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  const image = new proto.ImageService(imageEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  return {
    spent,
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

interface LifecycleResult {
  readonly rate: number;
  /** Mean milliseconds per call of each lifecycle RPC, as the client saw them. */
  readonly perCall: Record<string, number>;
  /** CPU µs the server's thread spent per lifecycle, when it runs in a worker of this bench. */
  readonly serverCpuMicros?: number;
}

/**
 * Lifecycles per second, `concurrency` of them in flight at a time (1 = sequential). The same warm-up
 * rule for every target, not measured: a tenth of the lifecycles (at least one, which also pulls the
 * pause image on a real runtime), so a JIT-compiled server is measured warm as a Go one is.
 */
async function lifecycleRate(
  runtimeEndpoint: string,
  imageEndpoint: string,
  image: string,
  n: number,
  concurrency = 1,
  client: LoadClient = 'http2',
  server?: StartedWorker,
): Promise<LifecycleResult> {
  const logDir = mkdtempSync(join(logRoot, 'phase-'));
  const cri = rawCri(runtimeEndpoint, imageEndpoint, client);
  try {
    await cri.call('image', 'PullImage', { image: { image } });
    const warmUp = Math.max(1, Math.round(n / 10));
    for (let i = 1; i <= warmUp; i++) await podLifecycle(cri, image, logDir, -i);
    cri.spent.clear();
    let next = 0;
    const cpuBefore = server ? await workerCpuMicros(server) : 0;
    const start = clock.monotonic();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await podLifecycle(cri, image, logDir, next++);
      }),
    );
    const rate = (n / (clock.monotonic() - start)) * 1000;
    const serverCpu = server ? ((await workerCpuMicros(server)) - cpuBefore) / n : undefined;
    const perCall = Object.fromEntries(LIFECYCLE_CALLS.map((m) => [m, (cri.spent.get(m)?.ms ?? 0) / (cri.spent.get(m)?.calls || 1)]));
    return { rate, perCall, ...(serverCpu === undefined ? {} : { serverCpuMicros: serverCpu }) };
  } finally {
    cri.close();
  }
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
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const calls = positiveIntFromEnv('BENCH_VERSION_CALLS', 4_000);
  const rounds = positiveIntFromEnv('BENCH_ROUNDS', 5);
  const lifecycles = positiveIntFromEnv('BENCH_LIFECYCLES', 300);
  console.log(`node ${process.version}, ${calls} Version calls per measurement, median of ${rounds} interleaved rounds\n`);

  const fake = await startWorker('fake');
  const bare = await startWorker('bare');
  const results: Record<string, number[]> = { 'bare c1': [], 'fake c1': [], 'bare c16': [], 'fake c16': [] };
  const concurrency = positiveIntFromEnv('BENCH_LIFECYCLE_CONCURRENCY', 4);
  const busybox = 'docker.io/library/busybox:1.36';
  const lifecycle: Record<string, LifecycleResult> = {};
  const createMicros = { before: 0, after: 0, disk: null as number | null };
  try {
    try {
      for (let r = 0; r < rounds; r++) {
        // Alternate the order so neither side always runs on a warmer machine.
        const order: [string, string][] = r % 2 === 0 ? [['bare', bare.endpoint], ['fake', fake.endpoint]] : [['fake', fake.endpoint], ['bare', bare.endpoint]];
        for (const c of [1, 16]) for (const [name, endpoint] of order) results[`${name} c${c}`]!.push(await versionRate(endpoint, c, calls));
      }
      for (const c of [1, 16]) {
        const bares = results[`bare c${c}`]!;
        const fakes = results[`fake c${c}`]!;
        // Each round measures both servers back to back, so the per-round ratio cancels most load drift.
        const ratios = fakes.map((f, i) => f / bares[i]!);
        console.log(
          `Version, concurrency ${String(c).padStart(2)}: bare grpc-js ${fmt(median(bares))} RPC/s   fake ${fmt(median(fakes))} RPC/s   ` +
            `fake/bare ${(median(ratios) * 100).toFixed(1)} % (median of per-round ratios ${ratios.map((r) => `${Math.round(r * 100)}%`).join(' ')}; target >= 80 %)`,
        );
      }
      // bare, fake, fake, bare: the canned-answer server measures what the same calls cost without a runtime.
      lifecycle['bare seq'] = await lifecycleRate(bare.endpoint, bare.endpoint, busybox, lifecycles, 1, 'http2', bare);
      createMicros.before = fileCreateMicros(logRoot, 'before');
      lifecycle['fake seq'] = await lifecycleRate(fake.endpoint, fake.endpoint, busybox, lifecycles, 1, 'http2', fake);
      createMicros.after = fileCreateMicros(logRoot, 'after');
      if (diskTmp !== tmpdir()) createMicros.disk = fileCreateMicros(diskTmp, 'disk');
      lifecycle['fake par'] = await lifecycleRate(fake.endpoint, fake.endpoint, busybox, lifecycles, concurrency);
      lifecycle['fake grpc-js'] = await lifecycleRate(fake.endpoint, fake.endpoint, busybox, lifecycles, 1, 'grpc-js');
      lifecycle['bare par'] = await lifecycleRate(bare.endpoint, bare.endpoint, busybox, lifecycles, concurrency);
    } finally {
      await stopWorker(bare);
    }
  } finally {
    await stopWorker(fake);
  }
  const fakeRate = lifecycle['fake seq']!.rate;
  const fakeRateParallel = lifecycle['fake par']!.rate;
  console.log(`\npod lifecycles (runp→create→start→stop→rm→stopp→rmp):`);
  console.log(`  fake        ${fmt(fakeRate)} lifecycles/s sequential, ${fmt(fakeRateParallel)} with ${concurrency} in flight  (${lifecycles} lifecycles each)`);
  console.log(
    `  transport   ${fmt(lifecycle['bare seq']!.rate)} lifecycles/s sequential, ${fmt(lifecycle['bare par']!.rate)} with ${concurrency} in flight  ` +
      `(the same calls answered by a bare grpc-js server with canned messages; the fake reaches ` +
      `${Math.round((fakeRate / lifecycle['bare seq']!.rate) * 100)} % / ${Math.round((fakeRateParallel / lifecycle['bare par']!.rate) * 100)} % of it)`,
  );
  console.log(logRootLine(createMicros.disk));
  console.log(
    `    creating a file in the log directory (kernel; part of StartContainer): ${createMicros.before.toFixed(0)} µs before the fake's ` +
      `sequential lifecycles, ${createMicros.after.toFixed(0)} µs after`,
  );
  console.log(`    through grpc-js stubs instead of the bench's http2 client: fake ${fmt(lifecycle['fake grpc-js']!.rate).trim()} lifecycles/s sequential`);
  console.log(perCallLine('fake', lifecycle['fake seq']!));
  console.log(perCallLine('transport', lifecycle['bare seq']!));
  const fakeCpu = lifecycle['fake seq']!.serverCpuMicros ?? 0;
  const bareCpu = lifecycle['bare seq']!.serverCpuMicros ?? 0;
  console.log(
    `    server thread CPU per sequential lifecycle (CPU time, which other processes' load does not inflate as it does wall time): ` +
      `fake ${fakeCpu.toFixed(0)} µs, transport ${bareCpu.toFixed(0)} µs; the fake's own work ${(fakeCpu - bareCpu).toFixed(0)} µs`,
  );

  const endpoint = process.env['CRI_ENDPOINT'];
  if (!endpoint && process.env['BENCH_CONTAINERD'] !== '1') {
    console.log('  containerd  (not measured: set CRI_ENDPOINT=unix:///... or BENCH_CONTAINERD=1 to provision one)');
    return;
  }
  const { provisionContainerdTarget } = await import('../ci/environment.js');
  const target = await provisionContainerdTarget({ runtimeEndpoint: endpoint || undefined });
  try {
    const n = positiveIntFromEnv('BENCH_CONTAINERD_LIFECYCLES', 10);
    const real = await lifecycleRate(target.info.runtimeEndpoint, target.info.imageEndpoint, target.info.images.busybox, n);
    const realParallel = await lifecycleRate(target.info.runtimeEndpoint, target.info.imageEndpoint, target.info.images.busybox, n, concurrency);
    console.log(`  containerd  ${fmt(real.rate)} lifecycles/s sequential, ${fmt(realParallel.rate)} with ${concurrency} in flight  (${n} lifecycles each at ${target.info.runtimeEndpoint})`);
    console.log(perCallLine('containerd', real));
    console.log(`  fake/containerd ${(fakeRate / real.rate).toFixed(0)}x sequential, ${(fakeRateParallel / realParallel.rate).toFixed(0)}x with ${concurrency} in flight  (target >= 100x)`);
  } finally {
    await target.stop();
  }
}

/** Where a sequential lifecycle's time goes, call by call, as the client saw it. */
function perCallLine(name: string, result: LifecycleResult): string {
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
  const total = Object.values(result.perCall).reduce((a, b) => a + b, 0);
  return `    ${`${name}:`.padEnd(12)} ms per call, sequential: ${LIFECYCLE_CALLS.map((m) => `${short[m]} ${ms(result.perCall[m]!)}`).join('  ')}  (sum ${ms(total)})`;
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(logRoot, { recursive: true, force: true }));
