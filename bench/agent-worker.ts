/**
 * The agent side of bench/agent.ts, in its own thread so its CPU use can be read apart from the API
 * server, the runtime and the load generator in the main thread.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { kubeClientsFromString } from '../agent/api/kube-client.js';
import { loadKubeletConfig } from '../agent/config/load.js';
import { Kubelet } from '../agent/kubelet.js';
import { fakeMachine } from '../agent/nodestatus/machine.js';

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
  kubeClients: kubeClientsFromString(input.kubeconfig),
  machine: fakeMachine({ hostname: input.nodeName, cpu: 64, memory: 256n * 1024n ** 3n }),
});
await kubelet.start();
await kubelet.podSourceSynced();
port.postMessage({ ready: true });
port.on('message', (msg: string) => {
  if (msg === 'cpu') port.postMessage({ cpu: process.threadCpuUsage() });
  if (msg === 'close') void kubelet.stop().then(() => process.exit(0));
});
