import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeClientsFromString } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';

let node: EmbeddedNode | undefined;
let dir: string | undefined;
afterEach(async () => {
  await node?.close();
  node = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const manifest = (image: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ${image}
    command: ["sh", "-c", "sleep 3600"]
`;

describe('static pods', () => {
  it('runs a manifest from staticPodPath, mirrors it in the API, replaces it on change and removes it with the file', async () => {
    dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
    writeFileSync(join(dir, 'web.yaml'), manifest('registry.local/busybox:1'));
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n  - {name: a, image: x, resources: {limits: {cpu: lots}}}\n');
    node = await startEmbeddedNode({ configOverrides: { staticPodPath: dir, fileCheckFrequency: 200 } });
    const { core } = kubeClientsFromString(node.api.kubeconfig());
    const mirror = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'web-harness-node', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 10_000, 'the mirror pod Running');
    expect(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']).toMatch(/^[0-9a-f]{32}$/);
    expect(mirror.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'harness-node' });
    expect(node.kubelet.events.events.some((e) => e.reason === 'InvalidStaticPodManifest' && e.message.includes('spec.containers[0].resources.limits[cpu]'))).toBe(true);

    writeFileSync(join(dir, 'web.yaml'), manifest('registry.local/busybox:2'));
    const replaced = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'web-harness-node', namespace: 'default' });
      return p.spec?.containers[0]?.image === 'registry.local/busybox:2' && p.status?.phase === 'Running' ? p : undefined;
    }, 10_000, 'the replaced mirror pod Running');
    expect(replaced.metadata?.annotations?.['kubernetes.io/config.mirror']).not.toBe(mirror.metadata?.annotations?.['kubernetes.io/config.mirror']);

    unlinkSync(join(dir, 'web.yaml'));
    await eventually(async () => {
      const sandboxes = await node!.kubelet.cri.listPodSandbox({});
      if (sandboxes.items.length > 0) return undefined;
      try {
        await core.readNamespacedPod({ name: 'web-harness-node', namespace: 'default' });
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    }, 10_000, 'sandbox and mirror pod gone');
  });
});

describe('static pods without an API server', () => {
  it('runs the manifests of staticPodPath with no API server at all', async () => {
    const { startFakeCri } = await import('../../fakes/cri/index.js');
    const { Kubelet } = await import('../kubelet.js');
    const { loadKubeletConfig } = await import('../config/load.js');
    const { fakeMachine } = await import('../nodestatus/machine.js');
    dir = mkdtempSync(join(tmpdir(), 'static-pods-'));
    writeFileSync(join(dir, 'web.yaml'), manifest('registry.local/busybox:1'));
    const cri = await startFakeCri();
    const kubelet = new Kubelet({
      config: { ...loadKubeletConfig({}).config, staticPodPath: dir, containerRuntimeEndpoint: cri.endpoint, resolvConf: '', podLogsDir: join(dir, 'logs') },
      nodeName: 'solo',
      rootDir: dir,
      kubeClients: null,
      machine: fakeMachine({ hostname: 'solo' }),
    });
    try {
      await kubelet.start();
      const status = await eventually(async () => {
        const [pod] = kubelet.staticPods!.pods();
        const s = pod ? kubelet.statusManager.getPodStatus(pod.metadata!.uid!) : undefined;
        return s?.phase === 'Running' ? s : undefined;
      }, 10_000, 'the static pod Running');
      expect(status.containerStatuses?.[0]?.state?.running).toBeDefined();
    } finally {
      await kubelet.stop();
      await cri.close();
    }
  });
});
