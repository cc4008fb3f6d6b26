/**
 * Pod start latency of the reference kubelet (pod created in the API → all containers running, as the
 * API shows it) against the raw CRI call sequence a one-container pod needs (RunPodSandbox,
 * PodSandboxStatus, ImageStatus, CreateContainer, StartContainer), measured in the same run on the
 * same runtime; pods started per second in a burst (fakes; the median of BENCH_AGENT_BURST_ROUNDS=3
 * rounds after BENCH_AGENT_BURST_WARMUP=1 untimed ones, each printed, the pods deleted between rounds); CPU with 110 running pods over a quiet
 * window, for the agent's thread and for the whole process; the burst's wire floor (the first round's
 * CRI calls and API writes replayed through the agent's clients with no kubelet logic, after every round:
 * bench/agent-wire-floor.ts), the CPU per pod the protocols alone take. Ends with a table of the figures.
 *
 * Targets (issue 5): overhead ≤ 15 % over raw CRI on containerd; ≥ 200 pods/s on the fakes.
 * Run: npm run bench:agent  (BENCH_AGENT_PODS=50, BENCH_AGENT_BURST=200, BENCH_AGENT_CPU_WINDOW_S=30,
 * BENCH_AGENT_TARGETS=fake,containerd; BENCH_AGENT_TIMELINE=1 prints the first burst per 50 ms; TMPDIR for
 * the agent's root directory, pod logs and containerd's state, /dev/shm when unset (see useScratchTmpdir);
 * BENCH_AGENT_PROFILE=DIR writes CPU profiles of the quiet window and of the first burst, one per thread:
 * agent-idle, main-idle, agent-burst, main-burst .cpuprofile)
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { V1Pod } from '@kubernetes/client-node';
import { realClock } from '../agent/clock/index.js';
import { createCriClient, CRI_STREAMING_RPCS, type CriClient } from '../agent/runtime/cri-client.js';
import { AGENT_YOUNG_GENERATION_MB } from '../agent/util/heap-settings.js';
import { provisionContainerdTarget } from '../ci/environment.js';
import { startMockApiServer, type MockApiServer } from '../fakes/apiserver/server.js';
import { startFakeCri } from '../fakes/cri/index.js';
import type { Journal } from '../fakes/journal/journal.js';
import { allRunning, LoadClient, RunningWatcher } from './agent-load.js';
import { formatTimeline, milestones, type TimelineSeries } from './agent-timeline.js';
import { formatGc, formatThreadCpu, sampleThreadCpu, threadCpuByName, watchGc, type GcTotals } from './agent-gc.js';
import { startPhaseProfile } from './agent-profile.js';
import { answersByMethod, cpuCeiling, criExchanges, floorJobs, recordWrite, type CriExchange, type ObservedChange, type RecordedPodWrites } from './agent-wire-floor.js';
import { startCannedCriServer, type CannedCriServer } from './agent-wire-floor-server.js';
import { criTransportFromEnv, nonNegativeIntFromEnv, positiveIntFromEnv, useScratchTmpdir, type Scratch } from './measure.js';
import { formatLatency, formatTable, latencySummary, medianBy, medianRound, overhead, type LatencySummary } from './agent-stats.js';

const clock = realClock;
const NODE = 'bench-node';
/** The wire floor's pods are bound here: the floor's informer watches them, the agent never sees them. */
const FLOOR_NODE = 'wire-floor-node';
const mainGc = watchGc();
/** Where the runs' files go (set first thing in main()). */
let scratch: Scratch = { dir: tmpdir(), why: '' };

interface RuntimeUnderTest {
  kind: 'fake' | 'containerd';
  runtimeEndpoint: string;
  imageEndpoint: string;
  busybox: string;
  /** The fake runtime's call journal (the burst timeline reads sandbox and container starts from it). */
  journal?: Journal;
  close(): Promise<string>;
}

/** The raw CRI sequence of a one-container pod whose image is present, as the kubelet issues it. */
/** Seconds and count per runtime operation (the names the kubelet's metric uses), for the raw sequence. */
type OperationTimes = Record<string, { seconds: number; count: number }>;

async function timedCall<T>(times: OperationTimes, op: string, call: () => Promise<T>): Promise<T> {
  const t0 = clock.monotonic();
  const out = await call();
  const entry = (times[op] ??= { seconds: 0, count: 0 });
  entry.seconds += (clock.monotonic() - t0) / 1000;
  entry.count++;
  return out;
}

async function rawPodStart(cri: CriClient, image: string, logDir: string, i: number, times: OperationTimes): Promise<{ ms: number; sandbox: string }> {
  const start = clock.monotonic();
  const sandboxConfig = {
    metadata: { name: `raw-${i}`, uid: `raw-${process.pid}-${i}`, namespace: 'bench-raw', attempt: 0 },
    logDirectory: logDir,
    hostname: `raw-${i}`,
    linux: { cgroupParent: `/kubepods/besteffort/podraw-${process.pid}-${i}` },
  };
  const { podSandboxId } = await timedCall(times, 'run_podsandbox', () => cri.runPodSandbox({ config: sandboxConfig }));
  await timedCall(times, 'podsandbox_status', () => cri.podSandboxStatus({ podSandboxId }));
  await timedCall(times, 'image_status', () => cri.imageStatus({ image: { image } }));
  const { containerId } = await timedCall(times, 'create_container', () =>
    cri.createContainer({
      podSandboxId,
      config: { metadata: { name: 'app', attempt: 0 }, image: { image }, command: ['sleep', '3600'], logPath: `app/0.log` },
      sandboxConfig,
    }),
  );
  await timedCall(times, 'start_container', () => cri.startContainer({ containerId }));
  return { ms: clock.monotonic() - start, sandbox: podSandboxId };
}

/**
 * Mean microseconds to create (and close) a new file under `dir`: the kernel's share of each pod start
 * (the agent's /etc/hosts and termination-log files, the runtime's log file), which on this VM's
 * journal-less ext4 grows with other processes' recent deletions. The files stay until `dir` goes.
 */
function fileCreateMicros(dir: string, label: string, files = 100): number {
  const probe = join(dir, `file-probe-${label}`);
  mkdirSync(probe);
  const start = clock.monotonic();
  for (let i = 0; i < files; i++) closeSync(openSync(join(probe, `${i}`), 'a', 0o640));
  return ((clock.monotonic() - start) / files) * 1000;
}

async function removeSandboxes(cri: CriClient, ids: readonly string[]): Promise<void> {
  for (const podSandboxId of ids) {
    await cri.stopPodSandbox({ podSandboxId }).catch(() => undefined);
    await cri.removePodSandbox({ podSandboxId }).catch(() => undefined);
  }
}

function pod(name: string, image: string, nodeName = NODE): V1Pod {
  return {
    metadata: { name, namespace: 'default' },
    spec: { nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] },
  };
}

async function startAgentWorker(kubeconfig: string, rt: RuntimeUnderTest, maxPods: number): Promise<Worker> {
  const worker = new Worker(new URL('./agent-worker.ts', import.meta.url), {
    // The young generation the CLI gives the agent (a worker's default follows the heap limit instead).
    resourceLimits: { maxYoungGenerationSizeMb: AGENT_YOUNG_GENERATION_MB },
    workerData: { kubeconfig, runtimeEndpoint: rt.runtimeEndpoint, imageEndpoint: rt.imageEndpoint, nodeName: NODE, maxPods, cgroupDriver: 'cgroupfs' },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return worker;
}

interface WorkerCounters {
  /** CPU of the agent's thread so far (µs). */
  readonly cpuMicros: number;
  /** CRI calls the agent made so far, by client method. */
  readonly criCalls: Readonly<Record<string, number>>;
  /** Time spent in the timed runtime operations so far, by operation (the kubelet's own metric). */
  readonly criSeconds: Readonly<Record<string, { seconds: number; count: number }>>;
  /** The agent thread's GC pauses so far. */
  readonly gc: GcTotals;
}

function workerCounters(worker: Worker): Promise<WorkerCounters> {
  return new Promise((resolve) => {
    worker.once('message', (msg: { cpu: { user: number; system: number }; criCalls: Record<string, number>; criSeconds: WorkerCounters['criSeconds']; gc: GcTotals }) =>
      resolve({ cpuMicros: msg.cpu.user + msg.cpu.system, criCalls: msg.criCalls, criSeconds: msg.criSeconds, gc: msg.gc }),
    );
    worker.postMessage('cpu');
  });
}

async function threadCpuMicros(worker: Worker): Promise<number> {
  return (await workerCounters(worker)).cpuMicros;
}

/** Mean latency of each runtime operation between two readings, slowest first, as `name n.n ms ×calls`. */
function meanLatencies(before: WorkerCounters['criSeconds'], after: WorkerCounters['criSeconds']): string {
  return Object.entries(after)
    .map(([op, a]) => {
      const b = before[op] ?? { seconds: 0, count: 0 };
      const n = a.count - b.count;
      return [op, n > 0 ? ((a.seconds - b.seconds) / n) * 1000 : 0, n] as const;
    })
    .filter(([, ms]) => ms > 0)
    .sort((x, y) => y[1] - x[1])
    .map(([op, ms, n]) => `${op} ${ms.toFixed(1)} ms ×${n}`)
    .join(', ');
}

/** Calls per pod between two readings, largest first, as `name n.n` pairs. */
function perPod(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>, pods: number): string {
  return Object.entries(after)
    .map(([name, n]) => [name, (n - (before[name] ?? 0)) / pods] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n.toFixed(1)}`)
    .join(', ');
}

/** Asks the worker to do something and waits for its one reply. */
function ask(worker: Worker, msg: unknown): Promise<void> {
  return new Promise((resolve) => {
    worker.once('message', () => resolve());
    worker.postMessage(msg);
  });
}

/** Profiles the agent's thread and the main thread until stop(phase) writes DIR/{agent,main}-PHASE.cpuprofile. */
async function profileBothThreads(worker: Worker, dir: string): Promise<{ stop(phase: string): Promise<void> }> {
  const main = await startPhaseProfile();
  await ask(worker, 'profile-start');
  return {
    async stop(phase) {
      await ask(worker, { profileTo: join(dir, `agent-${phase}.cpuprofile`) });
      await main.stop(join(dir, `main-${phase}.cpuprofile`));
      console.log(`${phase} CPU profiles written to ${dir}`);
    },
  };
}

async function stopWorker(worker: Worker): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage('close');
  await exited;
}

async function createAll(load: LoadClient, names: readonly string[], image: string, concurrency: number, onCreated?: () => void, nodeName = NODE): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const name = names[next++]!;
        await load.create('/api/v1/namespaces/default/pods', pod(name, image, nodeName));
        onCreated?.();
      }
    }),
  );
}

/** One burst on the fakes: wall time, and CPU per pod of the agent's thread and of the main thread (API server, fake CRI, load). */
interface BurstFigures {
  readonly pods: number;
  readonly secs: number;
  readonly agentCpuMsPerPod: number;
  readonly mainCpuMsPerPod: number;
  /**
   * The same less what each thread spends anyway with 110 running pods (the quiet window's rate over
   * the burst's wall time): on a busy box a slow burst otherwise charges pods with background work.
   */
  readonly agentNetCpuMsPerPod: number;
  readonly mainNetCpuMsPerPod: number;
  /** CPU per pod of the whole process: both threads plus V8's and libuv's helper threads (GC, JIT, fs). */
  readonly processCpuMsPerPod: number;
  /** CRI calls and API server writes per pod started. */
  readonly criCallsPerPod: number;
  readonly apiWritesPerPod: number;
}

/** What one target yielded, for the summary table. */
interface Figures {
  readonly kind: RuntimeUnderTest['kind'];
  readonly raw: LatencySummary;
  readonly agent: LatencySummary;
  /** CPU over the window with 110 running pods: the agent's thread, and the whole process (API server, fake CRI, load). */
  readonly cpu: QuietCpu;
  /** The median burst round on the fakes. */
  readonly burst?: BurstFigures;
  /** The wire floor of that burst: the median round by the whole process's CPU per pod. */
  readonly floor?: FloorFigures;
}

interface QuietCpu {
  readonly windowS: number;
  readonly agentThreadPct: number;
  readonly mainThreadPct: number;
  readonly processPct: number;
}

interface BurstContext {
  readonly rt: RuntimeUnderTest;
  readonly api: MockApiServer;
  readonly load: LoadClient;
  readonly watcher: RunningWatcher;
  readonly worker: Worker;
  /** The quiet window's CPU rates, to net the background out of the burst's CPU. */
  readonly cpu: QuietCpu;
  /** Write CPU profiles of this round here. */
  readonly profileDir: string | undefined;
  /** Print this round's timeline, GC, CRI and API figures (the first round's). */
  readonly details: boolean;
  /** Keep this round's CRI calls and API writes for the wire floor to replay. */
  readonly record: boolean;
}

/** A burst round's traffic: the CRI calls the agent made (with the fake's answers) and what the API server stored per pod. */
interface BurstRecording {
  readonly pods: readonly string[];
  readonly exchanges: readonly CriExchange[];
  readonly writes: ReadonlyMap<string, RecordedPodWrites>;
}

/** Creates `names` at once (32 requests in flight) and times them from the first create to all seen running. */
async function runBurst(ctx: BurstContext, names: readonly string[], round: number | 'warm-up'): Promise<{ figures: BurstFigures; recording?: BurstRecording }> {
  const { rt, api, load, watcher, worker, cpu } = ctx;
  const burst = names.length;
  // One waiter per name (the watcher keeps one): it also stamps the timeline.
  const seenRunning: number[] = [];
  const allUp = Promise.all(names.map((n) => watcher.running(n).then(() => void seenRunning.push(clock.monotonic()))));
  const burstProfiles = ctx.profileDir ? await profileBothThreads(worker, ctx.profileDir) : undefined;
  const writes: Record<string, number> = {};
  // The timeline: ms from t0 of each pod's creation, sandbox and container start (the fake's
  // journal), status writes (Running or not yet) and the load watcher seeing it running.
  const t0 = clock.monotonic();
  const at = { created: [] as number[], pending: [] as number[], runningWritten: [] as number[] };
  const since = (): number => clock.monotonic() - t0;
  const ours = new Set(names);
  const burstPod = (o: { metadata?: { name?: string } }): boolean => ours.has(o.metadata?.name ?? '');
  const recorded = new Map<string, RecordedPodWrites>();
  const unsubscribe = api.store.subscribe((change) => {
    writes[change.resource] = (writes[change.resource] ?? 0) + 1;
    if (ctx.record) recordWrite(recorded, ours, { resource: change.resource, type: change.type, object: change.current.object as ObservedChange['object'] });
    if (change.resource !== 'pods' || change.type !== 'MODIFIED' || !burstPod(change.current.object)) return;
    (allRunning(change.current.object as V1Pod) ? at.runningWritten : at.pending).push(since());
  });
  const journalFrom = (rt.journal?.size ?? 0) + 1;
  const timelineWanted = ctx.details && process.env['BENCH_AGENT_TIMELINE'] !== undefined;
  if (timelineWanted) await ask(worker, 'sample-cpu');
  const mainSampler = timelineWanted ? sampleThreadCpu() : undefined;
  const before = await workerCounters(worker);
  const main0 = process.threadCpuUsage();
  const process0 = process.cpuUsage();
  const threads0 = threadCpuByName();
  const mainGc0 = { ...mainGc };
  await createAll(load, names, rt.busybox, 32, () => at.created.push(since()));
  await allUp;
  const secs = (clock.monotonic() - t0) / 1000;
  const after = await workerCounters(worker);
  const main1 = process.threadCpuUsage(main0);
  const process1 = process.cpuUsage(process0);
  const threads1 = threadCpuByName();
  unsubscribe();
  const journalTo = rt.journal?.size ?? 0;
  const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);
  await burstProfiles?.stop('burst');
  const figures: BurstFigures = {
    pods: burst,
    secs,
    agentCpuMsPerPod: (after.cpuMicros - before.cpuMicros) / 1000 / burst,
    mainCpuMsPerPod: (main1.user + main1.system) / 1000 / burst,
    agentNetCpuMsPerPod: ((after.cpuMicros - before.cpuMicros) / 1000 - (cpu.agentThreadPct / 100) * secs * 1000) / burst,
    mainNetCpuMsPerPod: ((main1.user + main1.system) / 1000 - (cpu.mainThreadPct / 100) * secs * 1000) / burst,
    processCpuMsPerPod: (process1.user + process1.system) / 1000 / burst,
    criCallsPerPod: (sum(after.criCalls) - sum(before.criCalls)) / burst,
    apiWritesPerPod: sum(writes) / burst,
  };
  if (ctx.details) {
    const journaled = (name: string): number[] => (rt.journal?.entries((e) => e.seq >= journalFrom && e.source === 'cri' && e.name === name) ?? []).map((e) => e.t - t0);
    const timeline: TimelineSeries[] = [
      { name: 'created', times: at.created },
      { name: 'status', times: at.pending },
      { name: 'sandbox', times: journaled('RunPodSandbox') },
      { name: 'started', times: journaled('StartContainer') },
      { name: 'status-running', times: at.runningWritten },
      { name: 'seen-running', times: seenRunning.map((t) => t - t0) },
    ];
    if (timelineWanted) {
      const mainSamples = mainSampler!.stop();
      const agentSamples = await new Promise<Array<[number, number]>>((resolve) => {
        worker.once('message', (msg: { samples: Array<[number, number]> }) => resolve(msg.samples));
        worker.postMessage('sample-cpu-stop');
      });
      const origin = performance.timeOrigin + t0;
      const relative = (samples: Array<[number, number]>): Array<[number, number]> => samples.map(([t, c]) => [t - origin, c]);
      const threads = [
        { name: 'agent-cpu', samples: relative(agentSamples) },
        { name: 'main-cpu', samples: relative(mainSamples) },
      ];
      console.log(`burst timeline (per 50 ms: count/total so far; each thread's CPU share)\n${formatTimeline(timeline, 50, threads)}`);
    }
    console.log(`burst timeline (first–last after the first create): ${milestones(timeline)}`);
    console.log(`burst GC pauses: agent thread ${formatGc(before.gc, after.gc)}; main thread ${formatGc(mainGc0, mainGc)}`);
    console.log(`burst CRI calls per pod: ${figures.criCallsPerPod.toFixed(1)} (${perPod(before.criCalls, after.criCalls, burst)})`);
    console.log(`burst runtime operation mean latency (agent's view): ${meanLatencies(before.criSeconds, after.criSeconds)}`);
    console.log(`burst API server writes per pod: ${figures.apiWritesPerPod.toFixed(1)} (${perPod({}, writes, burst)})`);
  }
  // Running reaches the API only after the generic PLEG's next relist (every 1 s, as upstream) saw the
  // container started, so a round's time also depends on where the last start fell between relists.
  const starts = rt.journal?.entries((e) => e.seq >= journalFrom && e.seq <= journalTo && e.source === 'cri' && e.name === 'StartContainer') ?? [];
  const lastStart = starts.length > 0 ? (Math.max(...starts.map((e) => e.t)) - t0) / 1000 : undefined;
  const startedLine = lastStart === undefined ? '' : `; the runtime had started the last container at ${lastStart.toFixed(2)} s`;
  console.log(
    `burst ${round}: ${burst} pods created → all running in ${secs.toFixed(2)} s = ${(burst / secs).toFixed(0)} pods/s${startedLine} ` +
      `(CPU: agent thread ${((after.cpuMicros - before.cpuMicros) / 1e6).toFixed(2)} s, main thread with API server + fake CRI + load ${((main1.user + main1.system) / 1e6).toFixed(2)} s, ` +
      `whole process ${((process1.user + process1.system) / 1e6).toFixed(2)} s${helperLine(threads0, threads1)})`,
  );
  if (!ctx.record || !rt.journal) return { figures };
  const streaming: ReadonlySet<string> = new Set(CRI_STREAMING_RPCS);
  const exchanges = criExchanges(rt.journal.entries((e) => e.seq >= journalFrom && e.seq <= journalTo)).filter((x) => !streaming.has(x.method));
  return { figures, recording: { pods: names, exchanges, writes: recorded } };
}

/** Pods/s the burst's CPU allows on this machine's idle cores: the busier JavaScript thread, or all threads' CPU over all cores. */
function burstCeiling(b: BurstFigures): number {
  return cpuCeiling([b.agentCpuMsPerPod, b.mainCpuMsPerPod], b.processCpuMsPerPod, cpus().length);
}

/** The client side of the wire floor: bench/agent-wire-floor-worker.ts in its own thread. */
interface FloorClient {
  readonly worker: Worker;
  /** Runs the jobs (its pods must be created meanwhile); resolves when all ran and their Events were written. */
  run(jobs: ReturnType<typeof floorJobs>): Promise<{ failures: string[] }>;
  cpuMicros(): Promise<number>;
  close(): Promise<void>;
}

async function startFloorClient(kubeconfig: string, runtimeEndpoint: string): Promise<FloorClient> {
  const worker = new Worker(new URL('./agent-wire-floor-worker.ts', import.meta.url), {
    resourceLimits: { maxYoungGenerationSizeMb: AGENT_YOUNG_GENERATION_MB },
    workerData: { kubeconfig, runtimeEndpoint, nodeName: FLOOR_NODE },
  });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    worker,
    run: (jobs) =>
      new Promise((resolve) => {
        worker.once('message', (msg: { failures: string[] }) => resolve(msg));
        worker.postMessage({ jobs });
      }),
    cpuMicros: () =>
      new Promise((resolve) => {
        worker.once('message', (msg: { cpu: { user: number; system: number } }) => resolve(msg.cpu.user + msg.cpu.system));
        worker.postMessage('cpu');
      }),
    close: () => stopWorker(worker),
  };
}

/** One wire-floor round: CPU per pod of each thread and of the process, and the traffic it made. */
interface FloorFigures {
  readonly pods: number;
  readonly secs: number;
  readonly clientCpuMsPerPod: number;
  readonly mainCpuMsPerPod: number;
  readonly mainNetCpuMsPerPod: number;
  /** The idle agent's thread meanwhile (its 110 pods' background, as in the burst). */
  readonly agentCpuMsPerPod: number;
  readonly processCpuMsPerPod: number;
  readonly criCallsPerPod: number;
  readonly apiWritesPerPod: number;
  readonly ceiling: number;
}

interface FloorContext {
  readonly api: MockApiServer;
  readonly load: LoadClient;
  readonly watcher: RunningWatcher;
  readonly agent: Worker;
  readonly client: FloorClient;
  readonly server: CannedCriServer;
  readonly cpu: QuietCpu;
  readonly image: string;
}

/**
 * Replays a recorded burst with no kubelet behind it: the same pods created by the load, each one's
 * share of the CRI calls, its status writes and Events made by the floor's thread through the agent's
 * clients, the same watchers reading the same events; then deletes the floor's pods (untimed).
 */
async function runFloor(ctx: FloorContext, recording: BurstRecording, round: string): Promise<FloorFigures> {
  const { api, load, watcher, client, server, cpu } = ctx;
  const names = recording.pods.map((_, i) => `floor-${round}-${i}`);
  const jobs = floorJobs(recording.pods, (i) => names[i]!, recording.exchanges, recording.writes);
  server.setAnswers(answersByMethod(recording.exchanges));
  const answered0 = server.counts.answered;
  const writes: Record<string, number> = {};
  const unsubscribe = api.store.subscribe((change) => void (writes[change.resource] = (writes[change.resource] ?? 0) + 1));
  const allUp = Promise.all(names.map((n) => watcher.running(n)));
  const client0 = await client.cpuMicros();
  const agent0 = await threadCpuMicros(ctx.agent);
  const main0 = process.threadCpuUsage();
  const process0 = process.cpuUsage();
  const t0 = clock.monotonic();
  const done = client.run(jobs);
  await createAll(load, names, ctx.image, 32, undefined, FLOOR_NODE);
  const [{ failures }] = await Promise.all([done, allUp]);
  const secs = (clock.monotonic() - t0) / 1000;
  const client1 = await client.cpuMicros();
  const agent1 = await threadCpuMicros(ctx.agent);
  const main1 = process.threadCpuUsage(main0);
  const process1 = process.cpuUsage(process0);
  unsubscribe();
  if (failures.length > 0) throw new Error(`wire floor round ${round}: ${failures.length} pods' replay failed, first: ${failures[0]}`);
  const pods = names.length;
  const sum = (r: Readonly<Record<string, number>>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const mainMs = (main1.user + main1.system) / 1000;
  const clientCpuMsPerPod = (client1 - client0) / 1000 / pods;
  const mainCpuMsPerPod = mainMs / pods;
  const processCpuMsPerPod = (process1.user + process1.system) / 1000 / pods;
  const figures: FloorFigures = {
    pods,
    secs,
    clientCpuMsPerPod,
    mainCpuMsPerPod,
    mainNetCpuMsPerPod: (mainMs - (cpu.mainThreadPct / 100) * secs * 1000) / pods,
    agentCpuMsPerPod: (agent1 - agent0) / 1000 / pods,
    processCpuMsPerPod,
    criCallsPerPod: (server.counts.answered - answered0) / pods,
    apiWritesPerPod: sum(writes) / pods,
    ceiling: cpuCeiling([clientCpuMsPerPod, mainCpuMsPerPod], processCpuMsPerPod, cpus().length),
  };
  console.log(
    `wire floor ${round}: ${pods} pods' traffic (${figures.criCallsPerPod.toFixed(1)} CRI calls, ${figures.apiWritesPerPod.toFixed(1)} API writes per pod: ${perPod({}, writes, pods)}) ` +
      `in ${secs.toFixed(2)} s; CPU per pod: floor client thread ${clientCpuMsPerPod.toFixed(2)} ms, main thread with API server + canned CRI server + load ${mainCpuMsPerPod.toFixed(2)} ms, ` +
      `idle agent thread ${figures.agentCpuMsPerPod.toFixed(2)} ms, whole process ${processCpuMsPerPod.toFixed(2)} ms → ceiling ${figures.ceiling.toFixed(0)} pods/s`,
  );
  await deletePods(load, watcher, names);
  return figures;
}

/** `; of which V8Worker 0.50 s, ...`: the process's CPU outside its two JavaScript threads (Linux only). */
function helperLine(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): string {
  // The main thread is named after the process; the agent's worker thread "WorkerThread" (Node 24).
  const helpers = formatThreadCpu(before, after, ['MainThread', 'WorkerThread', 'node']);
  return helpers ? `; of which ${helpers}` : '';
}

/** Resolves when the API server has stored nothing for `quietMs` (or after `maxMs`), with the milliseconds waited. */
async function untilQuiet(api: MockApiServer, quietMs: number, maxMs: number): Promise<number> {
  const t0 = clock.monotonic();
  let last = t0;
  const unsubscribe = api.store.subscribe(() => void (last = clock.monotonic()));
  try {
    while (clock.monotonic() - last < quietMs && clock.monotonic() - t0 < maxMs) await clock.sleep(100);
  } finally {
    unsubscribe();
  }
  return clock.monotonic() - t0;
}

/** Deletes the pods, 16 requests in flight, and resolves when the watcher has seen every one of them go. */
async function deletePods(load: LoadClient, watcher: RunningWatcher, names: readonly string[]): Promise<void> {
  const gone = Promise.all(names.map((n) => watcher.gone(n)));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < names.length) await load.delete(`/api/v1/namespaces/default/pods/${names[next++]!}`);
    }),
  );
  await gone;
}

/**
 * Deletes the pods and waits until their objects are gone (grace period 0) and the agent has removed
 * their sandboxes from the runtime (`sandboxes` back to `baseline`), then lets the last writes settle,
 * so the next round does not pay for this one's cleanup. Returns the milliseconds that took.
 */
async function deleteAll(load: LoadClient, watcher: RunningWatcher, names: readonly string[], sandboxes: () => Promise<number>, baseline: number): Promise<number> {
  const t0 = clock.monotonic();
  await deletePods(load, watcher, names);
  const deadline = clock.monotonic() + 120_000;
  while ((await sandboxes()) > baseline) {
    if (clock.monotonic() > deadline) throw new Error(`the agent did not remove the deleted pods' sandboxes within 120 s`);
    await clock.sleep(100);
  }
  await clock.sleep(1_000);
  return clock.monotonic() - t0;
}

async function benchOn(rt: RuntimeUnderTest, pods: number, burst: number, burstRounds: number, burstWarmup: number, cpuWindowS: number): Promise<Figures> {
  console.log(`\n== ${rt.kind}: ${rt.runtimeEndpoint}`);
  const logDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-bench-raw-'));
  const cri = createCriClient({ runtimeEndpoint: rt.runtimeEndpoint, imageEndpoint: rt.imageEndpoint, unaryTransport: criTransportFromEnv() });
  const api = await startMockApiServer({ historyLimit: 50_000 });
  const load = new LoadClient(api.url);
  let worker: Worker | undefined;
  let floorServer: CannedCriServer | undefined;
  let floorClient: FloorClient | undefined;
  const watcher = new RunningWatcher(load);
  try {
    await cri.pullImage({ image: { image: rt.busybox } });
    const maxPods = Math.max(pods, 110) + (rt.kind === 'fake' ? burst : 0) + 10;
    worker = await startAgentWorker(api.kubeconfig(), rt, maxPods);
    await watcher.start();
    const agentPodStart = async (name: string): Promise<number> => {
      const t0 = clock.monotonic();
      const running = watcher.running(name);
      await load.create('/api/v1/namespaces/default/pods', pod(name, rt.busybox));
      await running;
      return clock.monotonic() - t0;
    };
    // One warm-up of each, then raw and agent pod starts alternate, so both see the same machine
    // load (the box is shared) and the same agent background work (PLEG relists, status, lease).
    const warm = await rawPodStart(cri, rt.busybox, logDir, -1, {});
    await removeSandboxes(cri, [warm.sandbox]);
    await agentPodStart('warm-0');
    const raw: number[] = [];
    const rawSandboxes: string[] = [];
    const seq: number[] = [];
    const rawTimes: OperationTimes = {};
    const seqBefore = await workerCounters(worker);
    for (let i = 0; i < pods; i++) {
      const r = await rawPodStart(cri, rt.busybox, logDir, i, rawTimes);
      raw.push(r.ms);
      rawSandboxes.push(r.sandbox);
      seq.push(await agentPodStart(`seq-${i}`));
    }
    const seqAfter = await workerCounters(worker);
    await removeSandboxes(cri, rawSandboxes);
    console.log(`runtime operation mean latency, raw sequence: ${meanLatencies({}, rawTimes)}`);
    console.log(`runtime operation mean latency, agent's pods (its own metric): ${meanLatencies(seqBefore.criSeconds, seqAfter.criSeconds)}`);
    const rawSummary = latencySummary(raw);
    console.log(formatLatency('raw CRI sequence (1-container pod)', rawSummary));
    const agentSummary = latencySummary(seq);
    console.log(formatLatency('agent: created in API → all running', agentSummary));
    console.log(`agent overhead over raw CRI (p50): ${(overhead(agentSummary.p50Ms, rawSummary.p50Ms) * 100).toFixed(1)} %  (p99: ${(overhead(agentSummary.p99Ms, rawSummary.p99Ms) * 100).toFixed(1)} %)`);

    // 110 running pods (kubelet's default maxPods), then CPU over a quiet window: the agent thread's
    // own time (threadCpuUsage in the worker) and the whole process's (process.cpuUsage).
    const fill = Array.from({ length: Math.max(0, 110 - pods - 1) }, (_, i) => `fill-${i}`);
    const filled = Promise.all(fill.map((n) => watcher.running(n)));
    await createAll(load, fill, rt.busybox, 16);
    await filled;
    await clock.sleep(2_000); // let the last status writes settle
    const profileDir = process.env['BENCH_AGENT_PROFILE'];
    const profiles = profileDir ? await profileBothThreads(worker, profileDir) : undefined;
    const cpu0 = await threadCpuMicros(worker);
    const proc0 = process.cpuUsage();
    const mainW0 = process.threadCpuUsage();
    const w0 = clock.monotonic();
    await clock.sleep(cpuWindowS * 1000);
    const cpu1 = await threadCpuMicros(worker);
    const proc1 = process.cpuUsage(proc0);
    const mainW1 = process.threadCpuUsage(mainW0);
    const wall = clock.monotonic() - w0;
    await profiles?.stop('idle');
    const cpu: QuietCpu = {
      windowS: cpuWindowS,
      agentThreadPct: ((cpu1 - cpu0) / 1000 / wall) * 100,
      mainThreadPct: ((mainW1.user + mainW1.system) / 1000 / wall) * 100,
      processPct: ((proc1.user + proc1.system) / 1000 / wall) * 100,
    };
    console.log(
      `CPU with 110 running pods over ${cpuWindowS} s: agent thread ${cpu.agentThreadPct.toFixed(1)} % of one core; ` +
        `whole process (agent + API server${rt.kind === 'fake' ? ' + fake CRI' : ''}) ${cpu.processPct.toFixed(1)} %`,
    );

    let burstFigures: Figures['burst'];
    let floorFigures: Figures['floor'];
    if (rt.kind === 'fake') {
      console.log(
        `file creation under ${tmpdir()} (the agent's root and pod logs): ${fileCreateMicros(logDir, 'burst').toFixed(0)} µs per file` +
          ` (${scratch.why})`,
      );
      // The box's speed moves from run to run (CPU per pod has varied ×1.8 between back-to-back runs), so
      // the burst is repeated and the median round is the figure; every round is printed.
      const rounds: BurstFigures[] = [];
      const floorRounds: FloorFigures[] = [];
      const sandboxes = async (): Promise<number> => (await cri.listPodSandbox({})).items.length;
      const baseline = await sandboxes();
      // The wire floor replays the first round after each round, so both see the same machine.
      floorServer = await startCannedCriServer();
      floorClient = await startFloorClient(api.kubeconfig(), floorServer.endpoint);
      const floorCtx: FloorContext = { api, load, watcher, agent: worker, client: floorClient, server: floorServer, cpu, image: rt.busybox };
      let recording: BurstRecording | undefined;
      // As the wire floor's thread gets one untimed round, so does the burst: the 50 sequential pods leave
      // much of a burst's code cold (in one run, the first round's V8 helper threads used 0.58-0.67 s, mostly
      // compiling, against 0.22-0.29 s in the third), and a long-running kubelet is measured warm.
      for (let i = 0; i < burstWarmup; i++) {
        const names = Array.from({ length: burst }, (_, j) => `burst-warm-${i}-${j}`);
        await runBurst({ rt, api, load, watcher, worker, cpu, profileDir: undefined, details: false, record: false }, names, 'warm-up');
        const ms = await deleteAll(load, watcher, names, sandboxes, baseline);
        console.log(`  deleted, and the agent removed their sandboxes, in ${(ms / 1000).toFixed(1)} s (not timed as part of any round)`);
      }
      for (let round = 1; round <= burstRounds; round++) {
        const names = Array.from({ length: burst }, (_, i) => `burst-${round}-${i}`);
        const result = await runBurst(
          { rt, api, load, watcher, worker, cpu, profileDir: round === 1 ? profileDir : undefined, details: round === 1, record: round === 1 },
          names,
          round,
        );
        rounds.push(result.figures);
        recording ??= result.recording;
        // Each floor round runs beside the round's running pods, as the end of its burst did, once the
        // agent's trailing writes (rate-limited Events) are done.
        if (recording) {
          const quietMs = await untilQuiet(api, 1_000, 60_000);
          console.log(`  the API server was quiet for 1 s after ${(quietMs / 1000).toFixed(1)} s`);
          // The floor's thread starts cold (its own isolate compiles grpc-js and the clients anew), as the
          // agent's did before the sequential pods warmed it: one untimed round first.
          if (round === 1) await runFloor(floorCtx, recording, 'warm-up');
          floorRounds.push(await runFloor(floorCtx, recording, String(round)));
        }
        if (round < burstRounds) {
          const ms = await deleteAll(load, watcher, names, sandboxes, baseline);
          console.log(`  deleted, and the agent removed their sandboxes, in ${(ms / 1000).toFixed(1)} s (not timed as part of any round)`);
        }
      }
      burstFigures = medianRound(rounds);
      if (burstRounds > 1) {
        console.log(
          `burst rounds: ${rounds.map((r) => (r.pods / r.secs).toFixed(0)).join(', ')} pods/s; median ${(burstFigures.pods / burstFigures.secs).toFixed(0)} pods/s (its figures are the summary's)`,
        );
      }
      if (floorRounds.length > 0) {
        floorFigures = medianBy(floorRounds, (f) => f.processCpuMsPerPod);
        console.log(
          `wire floor rounds (CPU per pod, whole process): ${floorRounds.map((f) => f.processCpuMsPerPod.toFixed(2)).join(', ')} ms; median ${floorFigures.processCpuMsPerPod.toFixed(2)} ms ` +
            `(its figures are the summary's)`,
        );
      }
    }
    return { kind: rt.kind, raw: rawSummary, agent: agentSummary, cpu, ...(burstFigures ? { burst: burstFigures } : {}), ...(floorFigures ? { floor: floorFigures } : {}) };
  } finally {
    await floorClient?.close();
    await floorServer?.close();
    watcher.stop();
    load.close();
    if (worker) await stopWorker(worker);
    const { items } = await cri.listPodSandbox({});
    await removeSandboxes(cri, items.map((s) => s.id));
    cri.close();
    await api.close();
    rmSync(logDir, { recursive: true, force: true });
    console.log(`teardown: ${await rt.close()}`);
  }
}

/** containerd leaves the kubepods cgroup directories behind: remove the empty ones the bench created. */
function removeKubepodsCgroups(): void {
  let controllers: string[] = [];
  try {
    controllers = readdirSync('/sys/fs/cgroup');
  } catch {
    return;
  }
  const prune = (dir: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).filter((e) => statSync(join(dir, e)).isDirectory());
    } catch {
      return;
    }
    for (const e of entries) prune(join(dir, e));
    try {
      rmdirSync(dir);
    } catch {
      // busy or not empty: leave it
    }
  };
  for (const c of controllers) prune(join('/sys/fs/cgroup', c, 'kubepods'));
}

function summaryTable(figures: readonly Figures[]): string {
  const ms = (v: number): string => v.toFixed(1);
  const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;
  const cell = (f: Figures, pick: (f: Figures) => string | undefined): string => pick(f) ?? '—';
  const rows: [string, (f: Figures) => string | undefined][] = [
    ['raw CRI sequence p50 / p99 (ms)', (f) => `${ms(f.raw.p50Ms)} / ${ms(f.raw.p99Ms)}`],
    ['agent: API create → all running p50 / p99 (ms)', (f) => `${ms(f.agent.p50Ms)} / ${ms(f.agent.p99Ms)}`],
    ['agent overhead over raw CRI p50 / p99', (f) => `${pct(overhead(f.agent.p50Ms, f.raw.p50Ms))} / ${pct(overhead(f.agent.p99Ms, f.raw.p99Ms))}`],
    ['pods started per second (median burst round)', (f) => (f.burst ? `${(f.burst.pods / f.burst.secs).toFixed(0)} (${f.burst.pods} in ${f.burst.secs.toFixed(2)} s)` : undefined)],
    ['burst CPU per pod: agent thread / main thread (ms)', (f) => (f.burst ? `${f.burst.agentCpuMsPerPod.toFixed(1)} / ${f.burst.mainCpuMsPerPod.toFixed(1)}` : undefined)],
    ['burst CPU per pod, whole process (ms)', (f) => (f.burst ? f.burst.processCpuMsPerPod.toFixed(1) : undefined)],
    ['burst CRI calls / API writes per pod', (f) => (f.burst ? `${f.burst.criCallsPerPod.toFixed(1)} / ${f.burst.apiWritesPerPod.toFixed(1)}` : undefined)],
    ['  net of the 110-pod background (ms)', (f) => (f.burst ? `${f.burst.agentNetCpuMsPerPod.toFixed(1)} / ${f.burst.mainNetCpuMsPerPod.toFixed(1)}` : undefined)],
    // The busier JavaScript thread bounds the rate; so does the whole process's CPU (helper threads
    // included) spread over every core.
    ['burst ceiling if CPU-bound on idle cores (pods/s)', (f) => (f.burst ? burstCeiling(f.burst).toFixed(0) : undefined)],
    // The same traffic replayed with no kubelet logic (bench/agent-wire-floor.ts): what the protocols alone cost.
    ['wire floor CPU per pod: client thread / main thread (ms)', (f) => (f.floor ? `${f.floor.clientCpuMsPerPod.toFixed(1)} / ${f.floor.mainCpuMsPerPod.toFixed(1)}` : undefined)],
    ['wire floor CPU per pod, whole process (ms)', (f) => (f.floor ? f.floor.processCpuMsPerPod.toFixed(1) : undefined)],
    ['wire floor ceiling if CPU-bound on idle cores (pods/s)', (f) => (f.floor ? f.floor.ceiling.toFixed(0) : undefined)],
    [
      "burst CPU per pod beyond the wire floor, whole process (ms)",
      (f) => (f.burst && f.floor ? beyondFloor(f.burst.processCpuMsPerPod, f.floor.processCpuMsPerPod) : undefined),
    ],
    ['agent thread CPU, 110 running pods (% core)', (f) => (f.cpu ? `${f.cpu.agentThreadPct.toFixed(1)} % over ${f.cpu.windowS} s` : undefined)],
    ['whole process CPU, 110 running pods (% core)', (f) => (f.cpu ? `${f.cpu.processPct.toFixed(1)} %` : undefined)],
  ];
  return formatTable(
    ['figure', ...figures.map((f) => f.kind)],
    rows.map(([label, pick]) => [label, ...figures.map((f) => cell(f, pick))]),
  );
}

/** The agent's own share of a burst's CPU per pod; a floor above the burst says that share is within the run's noise. */
function beyondFloor(burstMs: number, floorMs: number): string {
  const diff = burstMs - floorMs;
  const share = `${diff.toFixed(1)} (${((100 * diff) / burstMs).toFixed(0)} % of the burst's)`;
  return diff >= 0 ? share : `${share}: the floor measured above the burst, so the agent's own logic is below this run's noise`;
}

async function main(): Promise<void> {
  const pods = positiveIntFromEnv('BENCH_AGENT_PODS', 50);
  const burst = positiveIntFromEnv('BENCH_AGENT_BURST', 200);
  const burstRounds = positiveIntFromEnv('BENCH_AGENT_BURST_ROUNDS', 3);
  const burstWarmup = nonNegativeIntFromEnv('BENCH_AGENT_BURST_WARMUP', 1);
  const cpuWindowS = positiveIntFromEnv('BENCH_AGENT_CPU_WINDOW_S', 30);
  const targets = (process.env['BENCH_AGENT_TARGETS'] ?? 'fake,containerd').split(',').map((t) => t.trim());
  const loadStart = loadavg()[0]!;
  scratch = useScratchTmpdir();
  console.log(
    `bench/agent: ${pods} sequential pods per target, burst ${burst} on the fakes (${burstWarmup} untimed warm-up round${burstWarmup === 1 ? '' : 's'}, then ${burstRounds} rounds), CPU window ${cpuWindowS} s, CRI unary transport ${criTransportFromEnv()}, node ${process.version}; ` +
      `files under ${scratch.dir} (${scratch.why})`,
  );
  const figures: Figures[] = [];
  if (targets.includes('fake')) {
    const fake = await startFakeCri();
    figures.push(
      await benchOn(
        { kind: 'fake', runtimeEndpoint: fake.endpoint, imageEndpoint: fake.endpoint, busybox: 'registry.local/busybox:1.36', journal: fake.journal, close: async () => (await fake.close(), 'fake closed') },
        pods,
        burst,
        burstRounds,
        burstWarmup,
        cpuWindowS,
      ),
    );
  }
  if (targets.includes('containerd')) {
    const started = clock.monotonic();
    const target = await provisionContainerdTarget({ runtimeEndpoint: process.env['CRI_ENDPOINT'] || undefined });
    console.log(`\ncontainerd provisioned in ${Math.round(clock.monotonic() - started)} ms`);
    figures.push(
      await benchOn(
        {
          kind: 'containerd',
          runtimeEndpoint: target.info.runtimeEndpoint,
          imageEndpoint: target.info.imageEndpoint,
          busybox: target.info.images.busybox,
          close: async () => {
            removeKubepodsCgroups();
            const report = await target.stop();
            return report.problems.length ? `problems: ${report.problems.join('; ')}` : 'nothing left behind';
          },
        },
        pods,
        burst,
        burstRounds,
        burstWarmup,
        cpuWindowS,
      ),
    );
  }
  console.log(`\n${summaryTable(figures)}`);
  console.log(`machine load (1-min average, ${cpus().length} cores): ${loadStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end — the box is shared, so wall-clock figures move with it`);
  const fake = figures.find((f) => f.kind === 'fake');
  if (fake?.burst) {
    const rate = fake.burst.pods / fake.burst.secs;
    console.log(`fakes target ≥ 200 pods/s: ${rate >= 200 ? 'met' : 'NOT met'} (${rate.toFixed(0)} pods/s, the median burst round)`);
  }
  const containerd = figures.find((f) => f.kind === 'containerd');
  if (containerd) {
    const ratio = overhead(containerd.agent.p50Ms, containerd.raw.p50Ms);
    console.log(`containerd target ≤ 15 % overhead (p50): ${ratio <= 0.15 ? 'met' : 'NOT met'} (${(ratio * 100).toFixed(1)} %)`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
