/** Shared set-up for prober tests: a fake CRI with one-call helpers to run a container in a pod. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../clock/clock.js';
import { createCriClient, type CriClient } from '../../runtime/cri-client.js';
import { startFakeCri, type FakeCri } from '../../../fakes/cri/server.js';

export interface FakeRuntimeFixture {
  readonly fake: FakeCri;
  readonly cri: CriClient;
  readonly logDir: string;
  close(): Promise<void>;
}

export async function startFakeRuntime(clock?: Clock): Promise<FakeRuntimeFixture> {
  const fake = await startFakeCri(clock ? { clock } : {});
  const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 10_000 });
  const logDir = mkdtempSync(join(tmpdir(), 'prober-test-'));
  await cri.pullImage({ image: { image: 'busybox' } });
  return {
    fake,
    cri,
    logDir,
    close: async () => {
      cri.close();
      await fake.close();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

export interface RunningContainer {
  readonly podSandboxId: string;
  readonly containerId: string;
  readonly podIP: string;
}

/** RunPodSandbox + CreateContainer + StartContainer for one busybox container. */
export async function runContainer(
  f: FakeRuntimeFixture,
  spec: { pod: string; uid?: string; name: string; command: string[]; env?: Record<string, string>; image?: string },
): Promise<RunningContainer> {
  const config = {
    metadata: { name: spec.pod, uid: spec.uid ?? `uid-${spec.pod}`, namespace: 'default', attempt: 0 },
    hostname: spec.pod,
    logDirectory: join(f.logDir, spec.pod),
  };
  const { podSandboxId } = await f.cri.runPodSandbox({ config });
  const { containerId } = await f.cri.createContainer({
    podSandboxId,
    sandboxConfig: config,
    config: {
      metadata: { name: spec.name, attempt: 0 },
      image: { image: spec.image ?? 'busybox' },
      command: spec.command,
      envs: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value })),
      logPath: `${spec.name}/0.log`,
      // The labels a kubelet puts on its containers (stats are matched to pods by them).
      labels: {
        'io.kubernetes.pod.uid': config.metadata.uid,
        'io.kubernetes.pod.name': spec.pod,
        'io.kubernetes.pod.namespace': 'default',
        'io.kubernetes.container.name': spec.name,
      },
    },
  });
  await f.cri.startContainer({ containerId });
  const status = await f.cri.podSandboxStatus({ podSandboxId });
  return { podSandboxId, containerId, podIP: status.status?.network?.ip ?? '' };
}
