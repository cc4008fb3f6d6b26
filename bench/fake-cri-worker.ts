/**
 * The server side of bench/fake-cri.ts, in a worker thread so the server under test and the load
 * generator each have their own event loop: either the fake CRI runtime (default options: journal
 * with bodies, fault hooks) or a bare grpc-js server that answers Version with the same message and
 * the lifecycle's calls with canned answers (no runtime behind them: the transport alone).
 */
import * as grpc from '@grpc/grpc-js';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadCriProto } from '../agent/runtime/proto.js';
import { DEFAULT_JOURNAL_RETAIN } from '../agent/cmd/journal-options.js';
import { realClock } from '../agent/clock/index.js';
import { startFakeCri } from '../fakes/cri/server.js';
import { Journal } from '../fakes/journal/journal.js';

const port = parentPort;
if (!port) throw new Error('bench/fake-cri-worker.ts runs as a worker thread of bench/fake-cri.ts');
const { mode } = workerData as { mode: 'fake' | 'bare' };

/**
 * 'cpu' asks for this thread's CPU time (user + system µs), which other processes' load does not inflate
 * as it does wall time; any other message stops the server.
 */
function onMessage(stop: () => void): void {
  port!.on('message', (message: unknown) => {
    if (message === 'cpu') {
      const { user, system } = process.threadCpuUsage();
      port!.postMessage({ cpuMicros: user + system });
    } else stop();
  });
}

if (mode === 'fake') {
  // As `kubelet-harness fake-cri` runs it: the journal keeps the CLI's default window of entries in memory.
  const fake = await startFakeCri({ journal: new Journal(realClock, { retain: DEFAULT_JOURNAL_RETAIN }) });
  const version = fake.runtime.version();
  port.postMessage({ endpoint: fake.endpoint, version });
  onMessage(() => void fake.close().then(() => port.postMessage('stopped')));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'bare-grpc-'));
  const socketPath = join(dir, 'bare.sock');
  const proto = loadCriProto();
  // The exact message the fake answers, built the same way (see FakeRuntime.version()).
  const version = { version: '0.1.0', runtimeName: 'fake-cri', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  const server = new grpc.Server();
  const answer = (response: object) => (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, response);
  // The lifecycle's calls answered with canned messages of the fake's shape: the transport's share of a lifecycle.
  const id = 'f'.repeat(64);
  server.addService(proto.RuntimeService.service, {
    Version: answer(version),
    RunPodSandbox: answer({ podSandboxId: id }),
    CreateContainer: answer({ containerId: id }),
    StartContainer: answer({}),
    StopContainer: answer({}),
    RemoveContainer: answer({}),
    StopPodSandbox: answer({}),
    RemovePodSandbox: answer({}),
  });
  server.addService(proto.ImageService.service, { PullImage: answer({ imageRef: `sha256:${id}` }) });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  chmodSync(socketPath, 0o600);
  port.postMessage({ endpoint: `unix://${socketPath}`, version });
  onMessage(() =>
    server.tryShutdown(() => {
      rmSync(dir, { recursive: true, force: true });
      port.postMessage('stopped');
    }),
  );
}
