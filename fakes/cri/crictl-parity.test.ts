import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { createCriClient } from '../../agent/runtime/cri-client.js';
import { startFakeCri } from './server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('reports all-zero Linux resources in ContainerStatus when the config asks for none, as containerd 1.6 does (crictl inspect)', async () => {
  const fake = await startFakeCri({ cniNetwork: false });
  cleanups.push(() => fake.close());
  const cri = createCriClient({ runtimeEndpoint: fake.endpoint, timeoutMs: 5_000 });
  cleanups.push(() => cri.close());
  const logDirectory = mkdtempSync(join(tmpdir(), 'fake-cri-parity-'));
  cleanups.push(() => rmSync(logDirectory, { recursive: true, force: true }));
  const sandboxConfig = { metadata: { name: 'p', uid: 'uid-p', namespace: 'default', attempt: 0 }, logDirectory, linux: {} };
  await cri.pullImage({ image: { image: 'busybox:1.36' } });
  const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
  const create = (name: string, linux: object) =>
    cri.createContainer({ podSandboxId, sandboxConfig, config: { metadata: { name }, image: { image: 'busybox:1.36' }, command: ['sleep', '60'], logPath: `${name}.log`, linux } });
  const plain = await create('plain', {});
  const limited = await create('limited', { resources: { memoryLimitInBytes: '67108864', cpuShares: '512' } });
  const resourcesOf = async (containerId: string) => (await cri.containerStatus({ containerId })).status?.resources?.linux;
  expect(await resourcesOf(plain.containerId)).toMatchObject({ cpuPeriod: '0', cpuQuota: '0', cpuShares: '0', memoryLimitInBytes: '0', oomScoreAdj: '0' });
  expect(await resourcesOf(limited.containerId)).toMatchObject({ cpuShares: '512', memoryLimitInBytes: '67108864' });
});
