/**
 * Test fixture, run as a separate process: provisions the environment, starts one pod (so a shim, a netns,
 * rootfs mounts and a pod cgroup exist), prints what it created as one JSON line, then waits to be killed.
 * ci/host/process-end.test.ts kills it with SIGTERM (the signal handler must clean up) or SIGKILL (the next
 * run's sweep must clean up), or lets it call process.exit() (the exit handler must clean up).
 */
import { randomUUID } from 'node:crypto';
import { createCriClient } from '../../agent/runtime/cri-client.js';
import { sandboxBundles } from '../containerd/force-cleanup.js';
import { provisionContainerdTarget } from '../environment.js';

// argv[2]: a private parent directory, so only the test that started this fixture sweeps its leftovers.
const parentDir = process.argv[2];
const target = await provisionContainerdTarget(parentDir ? { parentDir } : {});
const containerd = target.containerd;
if (!containerd) throw new Error('expected a provisioned containerd');
const cri = createCriClient({ runtimeEndpoint: target.info.runtimeEndpoint });
const uid = randomUUID();
const { podSandboxId } = await cri.runPodSandbox({
  config: { metadata: { name: 'process-end', uid, namespace: 'kubelet-harness', attempt: 0 }, linux: { cgroupParent: `/kubepods/besteffort/pod${uid}` } },
});
cri.close();
const netns = sandboxBundles(`${containerd.runDir}/state`).find((bundle) => bundle.id === podSandboxId)?.netnsPath;
process.stdout.write(
  `${JSON.stringify({ runDir: containerd.runDir, registryDir: target.registry.workDir, bridge: containerd.bridge, netns, containerdPid: containerd.pid, registryPid: target.registry.pid, podUid: uid, sandboxId: podSandboxId })}\n`,
);
// argv[3] === 'exit': leave through process.exit() without a teardown (the 'exit' safety net must clean up).
if (process.argv[3] === 'exit') process.exit(0);
setInterval(() => undefined, 60_000);
