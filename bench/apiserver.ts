/**
 * Mock API server throughput, against a bare node:http server in the same run:
 *   - sustained pod creations/s (POST, CONCURRENCY requests in flight) while WATCHERS watch streams on pods are
 *     open, and the watch events/s those streams delivered (each must receive every creation);
 *   - the same request loop against a bare node:http server that reads the body and answers a JSON body of the
 *     same size as the mock's create response;
 *   - the ratio of the two request rates (target: >= 25 % with 10 watchers attached), and the server thread's CPU
 *     time per request for both (process.threadCpuUsage), which holds steady when other processes load the machine.
 * Each server runs in its own worker thread (bench/apiserver-worker.ts), the watch consumers in another
 * (bench/apiserver-watchers.ts), and the load generator here, so reading the streams does not slow the request loop. The two servers are measured in alternating rounds so both see the same background load; the ratio
 * reported is the median of the per-round ratios (robust to load that changes during the run).
 * Run: npm run bench:apiserver   (BENCH_ROUNDS, BENCH_ROUND_MS, BENCH_WATCHERS, BENCH_CONCURRENCY:
 * defaults 8, 750, 10, 16)
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { positiveIntFromEnv } from './measure.js';

const ROUNDS = positiveIntFromEnv('BENCH_ROUNDS', 8);
const ROUND_MS = positiveIntFromEnv('BENCH_ROUND_MS', 750);
const WATCHERS = positiveIntFromEnv('BENCH_WATCHERS', 10);
const CONCURRENCY = positiveIntFromEnv('BENCH_CONCURRENCY', 16);

interface StartedWorker {
  url: string;
  worker: Worker;
}

async function startWorker(mode: 'mock' | 'bare', bodyBytes?: number): Promise<StartedWorker> {
  const worker = new Worker(new URL('./apiserver-worker.ts', import.meta.url), { workerData: { mode, bodyBytes } });
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (msg: { url: string }) => resolve(msg.url));
    worker.once('error', reject);
  });
  return { url, worker };
}

/** CPU time (µs, user + system) the worker's thread has used so far. */
function threadCpu(w: StartedWorker): Promise<number> {
  return new Promise((resolve) => {
    w.worker.once('message', (msg: { cpu: { user: number; system: number } }) => resolve(msg.cpu.user + msg.cpu.system));
    w.worker.postMessage('cpu');
  });
}

async function stopWorker(w: StartedWorker): Promise<void> {
  const exited = new Promise<void>((resolve) => w.worker.once('exit', () => resolve()));
  w.worker.postMessage('close');
  await exited;
}

function podBody(i: number): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, labels: { app: 'bench', shard: String(i % 8) } },
    spec: {
      nodeName: 'node-1',
      containers: [{ name: 'app', image: 'registry.local/app:1.0', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } } }],
    },
  });
}

function post(agent: Agent, url: string, body: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/namespaces/default/pods`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('socket', (socket) => socket.setNoDelay(true));
    req.end(body);
  });
}

interface Totals {
  completed: number;
  failures: number;
  seconds: number;
  cpuMicros: number;
}

/** One round: CONCURRENCY loops of POSTs for ROUND_SECONDS against `w`, adding to `totals`. */
async function round(w: StartedWorker, agent: Agent, totals: Totals, nextIndex: { value: number }): Promise<number> {
  const cpuBefore = await threadCpu(w);
  const completedBefore = totals.completed;
  const start = performance.now();
  const end = start + ROUND_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const { status } = await post(agent, w.url, podBody(nextIndex.value++));
        if (status === 201) totals.completed++;
        else totals.failures++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  totals.seconds += seconds;
  totals.cpuMicros += (await threadCpu(w)) - cpuBefore;
  return (totals.completed - completedBefore) / seconds;
}

interface Watchers {
  worker: Worker;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}

/** WATCHERS pod watches from `resourceVersion`, read in their own worker thread. */
async function startWatchers(url: string, resourceVersion: string): Promise<Watchers> {
  const worker = new Worker(new URL('./apiserver-watchers.ts', import.meta.url), { workerData: { url, resourceVersion, count: WATCHERS } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    worker,
    countEvents: () =>
      new Promise((resolve) => {
        worker.once('message', (msg: { events: number }) => resolve(msg.events));
        worker.postMessage('count');
      }),
    close: async () => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.postMessage('close');
      await exited;
    },
  };
}

async function listResourceVersion(url: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/pods?limit=1`);
  const list = (await res.json()) as { metadata: { resourceVersion: string } };
  return list.metadata.resourceVersion;
}

const mock = await startWorker('mock');
// Size of one create response, for the bare baseline's body (this pod is created before the watches start).
const sample = await post(new Agent({ keepAlive: false }), mock.url, podBody(1_000_000_000));
if (sample.status !== 201) throw new Error(`the sample pod creation answered ${sample.status}`);
const bare = await startWorker('bare', sample.bytes);
const rv = await listResourceVersion(mock.url);
const watchers = await startWatchers(mock.url, rv);

const mockTotals: Totals = { completed: 0, failures: 0, seconds: 0, cpuMicros: 0 };
const bareTotals: Totals = { completed: 0, failures: 0, seconds: 0, cpuMicros: 0 };
const mockAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const bareAgent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const mockIndex = { value: 0 };
const bareIndex = { value: 0 };
const watchStart = performance.now();
const roundRatios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const bareRate = await round(bare, bareAgent, bareTotals, bareIndex);
  const mockRate = await round(mock, mockAgent, mockTotals, mockIndex);
  roundRatios.push(mockRate / bareRate);
}
roundRatios.sort((a, b) => a - b);
const medianRatio = roundRatios.length % 2 === 1
  ? (roundRatios[(roundRatios.length - 1) / 2] as number)
  : ((roundRatios[roundRatios.length / 2 - 1] as number) + (roundRatios[roundRatios.length / 2] as number)) / 2;
// Let the streams drain what was written before counting.
const expectedEvents = mockTotals.completed * WATCHERS;
const drainDeadline = performance.now() + 5_000;
let delivered = await watchers.countEvents();
while (delivered < expectedEvents && performance.now() < drainDeadline) {
  await new Promise((r) => setTimeout(r, 20));
  delivered = await watchers.countEvents();
}
const watchSeconds = (performance.now() - watchStart) / 1000;
await watchers.close();
mockAgent.destroy();
bareAgent.destroy();
await Promise.all([stopWorker(mock), stopWorker(bare)]);

const rate = (t: Totals): number => t.completed / t.seconds;
const cpuPerRequest = (t: Totals): number => t.cpuMicros / Math.max(1, t.completed + t.failures);
const ratio = medianRatio;
const cpuRatio = cpuPerRequest(bareTotals) / cpuPerRequest(mockTotals);
const fmt = (n: number, width = 8): string => n.toFixed(0).padStart(width);
process.stdout.write(
  [
    `mock API server bench: ${ROUNDS} alternating rounds of ${ROUND_MS} ms per server, ${CONCURRENCY} requests in flight, ` +
      `${WATCHERS} pod watchers on the mock, create response ${sample.bytes} bytes`,
    `  bare node:http, same-size JSON body  ${fmt(rate(bareTotals))} req/s     ${fmt(cpuPerRequest(bareTotals), 6)} µs server CPU/req  (${bareTotals.completed} ok, ${bareTotals.failures} failed)`,
    `  mock API server, pod creates         ${fmt(rate(mockTotals))} writes/s  ${fmt(cpuPerRequest(mockTotals), 6)} µs server CPU/req  (${mockTotals.completed} ok, ${mockTotals.failures} failed)`,
    `  watch events delivered               ${fmt(delivered / mockTotals.seconds)} events/s  (${delivered} of ${expectedEvents} expected, over ${mockTotals.seconds.toFixed(1)}s of mock rounds; ${watchSeconds.toFixed(1)}s wall)`,
    `  ratio mock/bare, request rate        ${(ratio * 100).toFixed(1).padStart(7)} %   (median of rounds; range ${((roundRatios[0] ?? 0) * 100).toFixed(0)}-${((roundRatios[roundRatios.length - 1] ?? 0) * 100).toFixed(0)} %; target >= 25 %: ${ratio >= 0.25 ? 'met' : 'NOT met'})`,
    `  ratio mock/bare, server CPU per req  ${(cpuRatio * 100).toFixed(1).padStart(7)} %`,
    '',
  ].join('\n'),
);
if (delivered !== expectedEvents) {
  process.stderr.write(`watchers received ${delivered} events, expected ${expectedEvents}\n`);
  process.exitCode = 1;
}
