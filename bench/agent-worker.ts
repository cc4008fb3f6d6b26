/**
 * The agent side of bench/agent.ts, in its own thread so its CPU use can be read apart from the API
 * server, the runtime and the load generator in the main thread.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { kubeClientsFromString } from '../agent/api/kube-client.js';
import { loadKubeletConfig } from '../agent/config/load.js';
import { Kubelet } from '../agent/kubelet.js';
import { createCriClient, type CriClient } from '../agent/runtime/cri-client.js';
import { criTransportFromEnv } from './measure.js';
import { fakeMachine } from '../agent/nodestatus/machine.js';
import { sampleThreadCpu, watchGc } from './agent-gc.js';
import { startPhaseProfile, type PhaseProfiler } from './agent-profile.js';

interface WorkerInput {
  kubeconfig: string;
  runtimeEndpoint: string;
  imageEndpoint: string;
  nodeName: string;
  maxPods: number;
  cgroupDriver: 'cgroupfs' | 'systemd';
}

const input = workerData as WorkerInput;
const port = parentPort;
if (!port) throw new Error('bench/agent-worker.ts runs as a worker thread of bench/agent.ts');

/** CRI calls the agent made, by RPC (server-streaming calls pass through uncounted). */
const criCalls: Record<string, number> = {};
function countingCri(inner: CriClient): CriClient {
  const wrappers = new Map<string | symbol, unknown>();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(prop);
      if (wrapper === undefined) {
        const bound = (value as (...a: unknown[]) => unknown).bind(target);
        wrapper =
          typeof prop !== 'string' || prop === 'close'
            ? bound
            : (...args: unknown[]) => {
                criCalls[prop] = (criCalls[prop] ?? 0) + 1;
                return bound(...args);
              };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

const gc = watchGc();
const cri = countingCri(createCriClient({ runtimeEndpoint: input.runtimeEndpoint, imageEndpoint: input.imageEndpoint, unaryTransport: criTransportFromEnv() }));
const rootDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-bench-agent-'));
const kubelet = new Kubelet({
  config: {
    ...loadKubeletConfig({}).config,
    containerRuntimeEndpoint: input.runtimeEndpoint,
    imageServiceEndpoint: input.imageEndpoint,
    maxPods: input.maxPods,
    podLogsDir: join(rootDir, 'logs'),
    resolvConf: '',
    cgroupDriver: input.cgroupDriver,
  },
  nodeName: input.nodeName,
  rootDir,
  cri,
  kubeClients: kubeClientsFromString(input.kubeconfig),
  machine: fakeMachine({ hostname: input.nodeName, cpu: 64, memory: 256n * 1024n ** 3n }),
});
await kubelet.start();
await kubelet.podSourceSynced();
port.postMessage({ ready: true });
/** Total seconds and count of each timed runtime operation so far (kubelet_runtime_operations_duration_seconds). */
async function runtimeOperationTimes(): Promise<Record<string, { seconds: number; count: number }>> {
  const metric = await kubelet.metrics.runtimeOperationsDuration.get();
  const out: Record<string, { seconds: number; count: number }> = {};
  for (const v of metric.values) {
    const op = String(v.labels['operation_type'] ?? '');
    const entry = (out[op] ??= { seconds: 0, count: 0 });
    if (v.metricName?.endsWith('_sum')) entry.seconds = v.value;
    if (v.metricName?.endsWith('_count')) entry.count = v.value;
  }
  return out;
}

let profiler: PhaseProfiler | undefined;
let cpuSampler: ReturnType<typeof sampleThreadCpu> | undefined;
port.on('message', (msg: string | { profileTo: string }) => {
  if (msg === 'cpu') void runtimeOperationTimes().then((criSeconds) => port.postMessage({ cpu: process.threadCpuUsage(), criCalls: { ...criCalls }, criSeconds, gc: { ...gc } }));
  if (msg === 'close') {
    void kubelet.stop().then(() => {
      cri.close();
      rmSync(rootDir, { recursive: true, force: true });
      process.exit(0);
    });
  }
  if (msg === 'profile-start') void startPhaseProfile().then((p) => ((profiler = p), port.postMessage({ profiling: true })));
  if (msg === 'sample-cpu') {
    cpuSampler = sampleThreadCpu();
    port.postMessage({ sampling: true });
  }
  if (msg === 'sample-cpu-stop') port.postMessage({ samples: cpuSampler?.stop() ?? [] });
  if (typeof msg === 'object') void profiler?.stop(msg.profileTo).then(() => port.postMessage({ profiled: msg.profileTo }));
});
