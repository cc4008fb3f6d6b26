/**
 * The client side of the wire's floor (bench/agent-wire-floor.ts), in its own thread as the agent is
 * in the burst: the agent's pod informer on a node of its own, and for each pod it reports, that pod's
 * job — its share of the burst's CRI calls through the agent's CriClient, then its status writes
 * through the agent's status writer, its Events through the agent's event recorder. No kubelet logic.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { V1Pod } from '@kubernetes/client-node';
import { realClock } from '../agent/clock/index.js';
import { ApiEventRecorder } from '../agent/api/event-recorder.js';
import { kubeClientsFromString } from '../agent/api/kube-client.js';
import { ApiPodSource } from '../agent/api/pod-source.js';
import { ApiPodStatusWriter } from '../agent/api/status-writer.js';
import { loadKubeletConfig } from '../agent/config/load.js';
import { createCriClient } from '../agent/runtime/cri-client.js';
import { criTransportFromEnv } from './measure.js';
import { lowerCamel } from '../agent/runtime/typed-service.js';
import type { FloorPodJob } from './agent-wire-floor.js';

interface FloorWorkerInput {
  kubeconfig: string;
  runtimeEndpoint: string;
  nodeName: string;
}

const input = workerData as FloorWorkerInput;
const port = parentPort;
if (!port) throw new Error('bench/agent-wire-floor-worker.ts runs as a worker thread of bench/agent.ts');

const clock = realClock;
const clients = kubeClientsFromString(input.kubeconfig);
const cri = createCriClient({ runtimeEndpoint: input.runtimeEndpoint, unaryTransport: criTransportFromEnv() });
const unary = cri as unknown as Record<string, (request: unknown) => Promise<unknown>>;
const writer = new ApiPodStatusWriter(clients);
const defaults = loadKubeletConfig({}).config;
// The kubelet's recorder with the kubelet's default eventRecordQPS/eventBurst.
const recorder = new ApiEventRecorder(clients, clock, { component: 'kubelet', host: input.nodeName }, () => undefined, {
  qps: defaults.eventRecordQPS,
  burst: defaults.eventBurst,
});

/** Jobs of the current round not started yet, by pod name. */
const waiting = new Map<string, FloorPodJob>();
let running = 0;
let failures: string[] = [];
let onIdle: (() => void) | undefined;

async function runJob(job: FloorPodJob, pod: V1Pod): Promise<void> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const uid = pod.metadata?.uid ?? '';
  try {
    for (const e of job.events) {
      recorder.event({ apiVersion: 'v1', kind: 'Pod', name: job.name, namespace, uid, ...(e.fieldPath ? { fieldPath: e.fieldPath } : {}) }, e.type, e.reason, e.message);
    }
    for (const call of job.calls) {
      const method = unary[lowerCamel(call.method)];
      if (!method) throw new Error(`the CRI client has no ${call.method}`);
      await method(call.request);
    }
    for (const status of job.statuses) {
      if (!(await writer.patchStatus(namespace, job.name, uid, status))) throw new Error(`pod ${job.name} is gone`);
    }
  } catch (e) {
    failures.push(`${job.name}: ${(e as Error).message}`);
  }
}

function start(pod: V1Pod): void {
  const job = waiting.get(pod.metadata?.name ?? '');
  if (!job) return;
  waiting.delete(job.name);
  running++;
  void runJob(job, pod).finally(() => {
    running--;
    if (waiting.size === 0 && running === 0) onIdle?.();
  });
}

const source = new ApiPodSource(clients, input.nodeName, clock, { add: start, update: start, delete: () => undefined });
await source.start();
await source.hasSynced();
port.postMessage({ ready: true });

port.on('message', (msg: 'cpu' | 'close' | { jobs: FloorPodJob[] }) => {
  if (msg === 'cpu') {
    port.postMessage({ cpu: process.threadCpuUsage() });
  } else if (msg === 'close') {
    void source.stop().then(() => {
      cri.close();
      writer.close();
      recorder.close();
      process.exit(0);
    });
  } else {
    failures = [];
    for (const job of msg.jobs) waiting.set(job.name, job);
    // Answers once every job has run and every Event has been written.
    onIdle = () => {
      onIdle = undefined;
      void recorder.flush().then(() => port.postMessage({ done: true, failures }));
    };
    for (const pod of source.list()) start(pod);
    if (waiting.size === 0 && running === 0) onIdle();
  }
});
