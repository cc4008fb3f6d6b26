/**
 * Fake CRI bench, one run, printed figures and ratios:
 *   - unary Version RPCs per second at concurrency 1 and 16, against the fake runtime and against a bare
 *     @grpc/grpc-js server answering the same message on a unix socket (target: fake >= 80 % of bare);
 *   - full pod lifecycles per second (runp → create → start → stop → rm → stopp → rmp, the same
 *     sequence as bench/cri-roundtrip), sequentially and with BENCH_LIFECYCLE_CONCURRENCY (default 4)
 *     in flight, on the fake and on containerd when CRI_ENDPOINT names one (or BENCH_CONTAINERD=1
 *     provisions one through ci/), with the ratios (target: fake >= 100x).
 * Servers run in worker threads; the load generator uses bare generated stubs (no retry or deadline
 * bookkeeping), identically for every target, so the figures are the runtimes' and not the client's.
 * Run: npm run bench:fake-cri   (BENCH_VERSION_CALLS, BENCH_ROUNDS, BENCH_LIFECYCLES, BENCH_CONTAINERD_LIFECYCLES,
 *   BENCH_LIFECYCLE_CONCURRENCY)
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { realClock } from '../agent/clock/index.js';
import { loadCriProto } from '../agent/runtime/proto.js';

const clock = realClock;

function count(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

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

async function stopWorker(w: StartedWorker): Promise<void> {
  const stopped = new Promise((resolve) => w.worker.once('message', resolve));
  w.worker.postMessage('stop');
  await stopped;
  await w.worker.terminate();
}

/** Version calls per second with `concurrency` callers sharing one channel, `total` calls in all. */
async function versionRate(endpoint: string, concurrency: number, total: number): Promise<number> {
  const cri = loadCriProto();
  const stub = new cri.RuntimeService(endpoint, grpc.credentials.createInsecure());
  const call = (): Promise<void> =>
    new Promise((resolve, reject) => stub.Version({ version: 'v1' }, { deadline: Date.now() + 10_000 }, (e) => (e ? reject(e) : resolve())));
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
    stub.close();
  }
}

/** The CRI calls of a lifecycle through bare generated stubs (no retries or deadline bookkeeping), identical for every target. */
interface RawCri {
  call<T>(service: 'runtime' | 'image', method: string, request: object): Promise<T>;
  close(): void;
}

function rawCri(runtimeEndpoint: string, imageEndpoint: string): RawCri {
  const proto = loadCriProto();
  const runtime = new proto.RuntimeService(runtimeEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  const image = new proto.ImageService(imageEndpoint, grpc.credentials.createInsecure()) as unknown as Record<string, Function> & grpc.Client;
  return {
    call: <T>(service: 'runtime' | 'image', method: string, request: object) =>
      new Promise<T>((resolve, reject) => {
        const stub = service === 'runtime' ? runtime : image;
        stub[method]!.call(stub, request, { deadline: Date.now() + 120_000 }, (err: Error | null, res: T) => (err ? reject(err) : resolve(res)));
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

/** Lifecycles per second, `concurrency` of them in flight at a time (1 = sequential). */
async function lifecycleRate(runtimeEndpoint: string, imageEndpoint: string, image: string, n: number, concurrency = 1): Promise<number> {
  const logDir = mkdtempSync(join(tmpdir(), 'fake-cri-bench-'));
  const cri = rawCri(runtimeEndpoint, imageEndpoint);
  try {
    await cri.call('image', 'PullImage', { image: { image } });
    await podLifecycle(cri, image, logDir, -1); // warm-up (pulls the pause image on a real runtime)
    let next = 0;
    const start = clock.monotonic();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) await podLifecycle(cri, image, logDir, next++);
      }),
    );
    return (n / (clock.monotonic() - start)) * 1000;
  } finally {
    cri.close();
    rmSync(logDir, { recursive: true, force: true });
  }
}

const fmt = (n: number): string => n.toFixed(n >= 100 ? 0 : 2).padStart(8);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const calls = count('BENCH_VERSION_CALLS', 4_000);
  const rounds = count('BENCH_ROUNDS', 5);
  const lifecycles = count('BENCH_LIFECYCLES', 300);
  console.log(`node ${process.version}, ${calls} Version calls per measurement, median of ${rounds} interleaved rounds\n`);

  const fake = await startWorker('fake');
  const bare = await startWorker('bare');
  const results: Record<string, number[]> = { 'bare c1': [], 'fake c1': [], 'bare c16': [], 'fake c16': [] };
  try {
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so neither side always runs on a warmer machine.
      const order: [string, string][] = r % 2 === 0 ? [['bare', bare.endpoint], ['fake', fake.endpoint]] : [['fake', fake.endpoint], ['bare', bare.endpoint]];
      for (const c of [1, 16]) for (const [name, endpoint] of order) results[`${name} c${c}`]!.push(await versionRate(endpoint, c, calls));
    }
  } finally {
    await stopWorker(bare);
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

  const concurrency = count('BENCH_LIFECYCLE_CONCURRENCY', 4);
  let fakeRate: number;
  let fakeRateParallel: number;
  try {
    fakeRate = await lifecycleRate(fake.endpoint, fake.endpoint, 'docker.io/library/busybox:1.36', lifecycles);
    fakeRateParallel = await lifecycleRate(fake.endpoint, fake.endpoint, 'docker.io/library/busybox:1.36', lifecycles, concurrency);
  } finally {
    await stopWorker(fake);
  }
  console.log(`\npod lifecycles (runp→create→start→stop→rm→stopp→rmp):`);
  console.log(`  fake        ${fmt(fakeRate)} lifecycles/s sequential, ${fmt(fakeRateParallel)} with ${concurrency} in flight  (${lifecycles} lifecycles each)`);

  const endpoint = process.env['CRI_ENDPOINT'];
  if (!endpoint && process.env['BENCH_CONTAINERD'] !== '1') {
    console.log('  containerd  (not measured: set CRI_ENDPOINT=unix:///... or BENCH_CONTAINERD=1 to provision one)');
    return;
  }
  const { provisionContainerdTarget } = await import('../ci/environment.js');
  const target = await provisionContainerdTarget({ runtimeEndpoint: endpoint || undefined });
  try {
    const n = count('BENCH_CONTAINERD_LIFECYCLES', 10);
    const realRate = await lifecycleRate(target.info.runtimeEndpoint, target.info.imageEndpoint, target.info.images.busybox, n);
    const realRateParallel = await lifecycleRate(target.info.runtimeEndpoint, target.info.imageEndpoint, target.info.images.busybox, n, concurrency);
    console.log(`  containerd  ${fmt(realRate)} lifecycles/s sequential, ${fmt(realRateParallel)} with ${concurrency} in flight  (${n} lifecycles each at ${target.info.runtimeEndpoint})`);
    console.log(`  fake/containerd ${(fakeRate / realRate).toFixed(0)}x sequential, ${(fakeRateParallel / realRateParallel).toFixed(0)}x with ${concurrency} in flight  (target >= 100x)`);
  } finally {
    await target.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
