import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeCsi, type FakeCsi } from '../../fakes/csi/server.js';
import { assertHappensBefore, step } from '../../fakes/journal/happens-before.js';
import { Journal, match, type JournalEntry } from '../../fakes/journal/journal.js';
import { kubeClientsFromString, type KubeClients } from '../api/kube-client.js';
import { startEmbeddedNode, type EmbeddedNode } from '../embedded-node.js';
import { eventually } from '../test-support/eventually.js';
import { apiVolumeObjectSource } from './api-objects.js';
import { VolumeManager, type VolumeObjectSource } from './volume-manager.js';

const DRIVER = 'csi.kubelet-harness.dev';
let node: EmbeddedNode | undefined;
let csi: FakeCsi | undefined;
let volumes: VolumeManager | undefined;
let dir: string | undefined;

afterEach(async () => {
  await node?.close();
  volumes?.close();
  await csi?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  node = csi = volumes = dir = undefined;
});

const ok = (source: string, name: string, subject: Record<string, string> = {}) => (e: JournalEntry) => match(source, name, subject)(e) && !e.error;

describe('the volume manager inside the embedded node', () => {
  it('publishes a PVC-backed CSI volume before the sandbox and unpublishes it after the sandbox is removed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kh-embedded-vol-'));
    const journal = new Journal();
    csi = await startFakeCsi({ socketPath: join(dir, 'csi.sock'), journal });
    let clients: KubeClients | null = null;
    // The API server starts with the node; the object source reads through whatever clients exist by then.
    const lazy: VolumeObjectSource = {
      getConfigMap: (ns, n) => apiVolumeObjectSource(clients).getConfigMap(ns, n),
      getSecret: (ns, n) => apiVolumeObjectSource(clients).getSecret(ns, n),
      getPersistentVolumeClaim: (ns, n) => apiVolumeObjectSource(clients).getPersistentVolumeClaim(ns, n),
      getPersistentVolume: (n) => apiVolumeObjectSource(clients).getPersistentVolume(n),
    };
    volumes = new VolumeManager({ rootDir: join(dir, 'kubelet'), nodeName: 'harness-node', objects: lazy, csiDrivers: [{ name: DRIVER, endpoint: csi.endpoint }] });
    node = await startEmbeddedNode({ journal, volumes });
    clients = kubeClientsFromString(node.api.kubeconfig());
    const { core } = clients;

    await core.createPersistentVolume({
      body: { metadata: { name: 'pv-web' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], csi: { driver: DRIVER, volumeHandle: 'vol-web' } } },
    });
    await core.createNamespacedPersistentVolumeClaim({
      namespace: 'default',
      body: { metadata: { name: 'web-data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv-web' } },
    });
    // No PV controller runs here: bind the claim as one would.
    await core.replaceNamespacedPersistentVolumeClaimStatus({
      name: 'web-data',
      namespace: 'default',
      body: { metadata: { name: 'web-data', namespace: 'default' }, spec: { volumeName: 'pv-web' }, status: { phase: 'Bound' } },
    });
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'web-config' }, data: { 'index.html': 'hello' } } });
    const pod: V1Pod = {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        nodeName: 'harness-node',
        containers: [{ name: 'app', image: 'registry.local/app:1.0', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/web' }] }],
        volumes: [
          { name: 'data', persistentVolumeClaim: { claimName: 'web-data' } },
          { name: 'cfg', configMap: { name: 'web-config' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    };
    await core.createNamespacedPod({ namespace: 'default', body: pod });
    const running = await eventually(async () => {
      const p = await core.readNamespacedPod({ name: 'web', namespace: 'default' });
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'web Running', 15_000);
    const uid = running.metadata!.uid!;
    const mounted = volumes.mountedVolumes(uid)!;
    expect(readFileSync(join(mounted.get('cfg')!.hostPath, 'index.html'), 'utf8')).toBe('hello');
    // The container's mounts point at the volume manager's directories.
    const create = journal.first(match('cri', 'CreateContainer'))!;
    const mounts = (create.request as { config: { mounts: Array<{ containerPath: string; hostPath: string }> } }).config.mounts;
    expect(mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ containerPath: '/data', hostPath: mounted.get('data')!.hostPath }),
        expect.objectContaining({ containerPath: '/etc/web', hostPath: mounted.get('cfg')!.hostPath }),
      ]),
    );
    assertHappensBefore(journal, [
      step('volume staged', ok('csi', 'NodeStageVolume', { volumeId: 'vol-web' })),
      step('volume published', ok('csi', 'NodePublishVolume', { volumeId: 'vol-web', podUid: uid })),
      step('sandbox', ok('cri', 'RunPodSandbox')),
      step('app created', ok('cri', 'CreateContainer')),
    ]);

    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await eventually(() => core.readNamespacedPod({ name: 'web', namespace: 'default' }).then(() => undefined, (e: { code?: number }) => (e.code === 404 ? true : undefined)), 'web gone', 15_000);
    assertHappensBefore(journal, [
      step('stop container', ok('cri', 'StopContainer')),
      step('stop sandbox', ok('cri', 'StopPodSandbox')),
      step('remove sandbox', ok('cri', 'RemovePodSandbox')),
      step('unpublish', ok('csi', 'NodeUnpublishVolume', { volumeId: 'vol-web' })),
      step('unstage', ok('csi', 'NodeUnstageVolume', { volumeId: 'vol-web' })),
    ]);
    expect(csi.driver.snapshot()).toMatchObject({ staged: [], published: [] });
    expect(volumes.podUids()).toEqual([]);
  });
});
