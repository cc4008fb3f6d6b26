import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1Secret, V1Volume } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeCsi, type FakeCsi } from '../../fakes/csi/server.js';
import type { FaultRule } from '../../fakes/cri/faults.js';
import { assertHappensBefore, step } from '../../fakes/journal/happens-before.js';
import { Journal, match } from '../../fakes/journal/journal.js';
import { createKubeletMetrics } from '../metrics/index.js';
import { csiStagingPath, csiTargetPath, inlineCsiVolumeHandle } from './paths.js';
import { PodVolumesError, VolumeManager, type VolumeObjectSource } from './volume-manager.js';

const DRIVER = 'csi.kubelet-harness.dev';

let dir: string;
let root: string;
let journal: Journal;
let csi: FakeCsi | undefined;
let manager: VolumeManager | undefined;
let objects: {
  configMaps: Map<string, V1ConfigMap>;
  secrets: Map<string, V1Secret>;
  pvcs: Map<string, V1PersistentVolumeClaim>;
  pvs: Map<string, V1PersistentVolume>;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kh-vol-'));
  root = join(dir, 'kubelet');
  journal = new Journal();
  objects = { configMaps: new Map(), secrets: new Map(), pvcs: new Map(), pvs: new Map() };
});
afterEach(async () => {
  manager?.close();
  manager = undefined;
  await csi?.stop();
  csi = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const source = (): VolumeObjectSource => ({
  getConfigMap: async (ns, name) => objects.configMaps.get(`${ns}/${name}`) ?? null,
  getSecret: async (ns, name) => objects.secrets.get(`${ns}/${name}`) ?? null,
  getPersistentVolumeClaim: async (ns, name) => objects.pvcs.get(`${ns}/${name}`) ?? null,
  getPersistentVolume: async (name) => objects.pvs.get(name) ?? null,
});

async function setup(options: { stage?: boolean; faults?: FaultRule[] } = {}): Promise<VolumeManager> {
  csi = await startFakeCsi({
    socketPath: join(dir, 'csi.sock'),
    journal,
    capabilities: { node: options.stage === false ? [] : ['STAGE_UNSTAGE_VOLUME'] },
    faults: options.faults ?? [],
    acceptUnknownVolumes: false,
  });
  manager = new VolumeManager({ rootDir: root, nodeName: 'node-a', objects: source(), csiDrivers: [{ name: DRIVER, endpoint: csi.endpoint }] });
  return manager;
}

function pod(uid: string, volumes: V1Volume[]): V1Pod {
  return { metadata: { name: `pod-${uid}`, namespace: 'default', uid }, spec: { containers: [{ name: 'c', image: 'busybox' }], volumes } };
}

/** A CSI volume provisioned through the fake's controller, its PV and a bound PVC. */
async function provision(claim: string, pvName: string): Promise<string> {
  const { volume } = csi!.driver.createVolume({
    name: pvName,
    volumeCapabilities: [{ accessType: 'mount', mount: { fsType: '', mountFlags: [], volumeMountGroup: '' }, accessMode: { mode: 'SINGLE_NODE_WRITER' } }],
    capacityRange: null,
    parameters: {},
    secrets: {},
    volumeContentSource: null,
    accessibilityRequirements: null,
    mutableParameters: {},
  });
  const handle = volume!.volumeId as string;
  objects.pvs.set(pvName, {
    metadata: { name: pvName },
    spec: { accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' }, csi: { driver: DRIVER, volumeHandle: handle, volumeAttributes: { tier: 'fast' } } },
  });
  objects.pvcs.set(`default/${claim}`, { metadata: { name: claim, namespace: 'default' }, spec: { volumeName: pvName }, status: { phase: 'Bound' } });
  return handle;
}

const ok = (name: string, subject: Record<string, string>) => step(name, (e) => match('csi', name, subject)(e) && !e.error);

describe('volume manager: local volumes', () => {
  it('sets up emptyDir, hostPath, configMap and secret volumes under the kubelet paths', async () => {
    const vm = await setup();
    objects.configMaps.set('default/cfg', { data: { 'app.conf': 'port=80' } });
    objects.secrets.set('default/sec', { data: { token: Buffer.from('s3cret').toString('base64') } });
    const hostDir = join(dir, 'host', 'data');
    const mounted = await vm.mountPodVolumes(
      pod('u1', [
        { name: 'scratch', emptyDir: {} },
        { name: 'host', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'sec', secret: { secretName: 'sec', defaultMode: 0o400 } },
      ]),
    );
    const base = join(root, 'pods', 'u1', 'volumes');
    expect(Object.fromEntries(mounted)).toEqual({
      scratch: { hostPath: join(base, 'kubernetes.io~empty-dir', 'scratch'), readOnly: false },
      host: { hostPath: hostDir, readOnly: false },
      cfg: { hostPath: join(base, 'kubernetes.io~configmap', 'cfg'), readOnly: true },
      sec: { hostPath: join(base, 'kubernetes.io~secret', 'sec'), readOnly: true },
    });
    expect(statSync(join(base, 'kubernetes.io~empty-dir', 'scratch')).mode & 0o777).toBe(0o777);
    expect(statSync(hostDir).isDirectory()).toBe(true);
    expect(readFileSync(join(base, 'kubernetes.io~configmap', 'cfg', 'app.conf'), 'utf8')).toBe('port=80');
    expect(readlinkSync(join(base, 'kubernetes.io~configmap', 'cfg', 'app.conf'))).toBe('..data/app.conf');
    expect(readFileSync(join(base, 'kubernetes.io~secret', 'sec', 'token'), 'utf8')).toBe('s3cret');

    // A changed ConfigMap is projected again on the next sync.
    objects.configMaps.set('default/cfg', { data: { 'app.conf': 'port=8080' } });
    await vm.mountPodVolumes(pod('u1', [{ name: 'cfg', configMap: { name: 'cfg' } }]));
    expect(readFileSync(join(base, 'kubernetes.io~configmap', 'cfg', 'app.conf'), 'utf8')).toBe('port=8080');

    await vm.unmountPodVolumes('u1');
    expect(existsSync(join(root, 'pods', 'u1', 'volumes'))).toBe(false);
    expect(existsSync(hostDir)).toBe(true);
    expect(vm.podUids()).toEqual([]);
  });

  it('projects downward API and projected volumes and refreshes them when labels change', async () => {
    const vm = await setup();
    objects.configMaps.set('default/cfg', { data: { 'app.conf': 'x' } });
    const volumes: V1Volume[] = [
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'all', projected: { sources: [{ configMap: { name: 'cfg' } }, { downwardAPI: { items: [{ path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } }] } }] } },
    ];
    const p = { ...pod('u9', volumes), metadata: { name: 'p', namespace: 'default', uid: 'u9', labels: { v: '1' } } };
    const mounted = await vm.mountPodVolumes(p);
    const info = mounted.get('info')!.hostPath;
    expect(info).toBe(join(root, 'pods', 'u9', 'volumes', 'kubernetes.io~downward-api', 'info'));
    expect(readFileSync(join(info, 'labels'), 'utf8')).toBe('v="1"');
    const all = mounted.get('all')!.hostPath;
    expect(readFileSync(join(all, 'app.conf'), 'utf8')).toBe('x');
    expect(readFileSync(join(all, 'uid'), 'utf8')).toBe('u9');
    await vm.mountPodVolumes({ ...p, metadata: { ...p.metadata, labels: { v: '2' } } });
    expect(readFileSync(join(info, 'labels'), 'utf8')).toBe('v="2"');
    await vm.unmountPodVolumes(p);
    expect(existsSync(info)).toBe(false);
  });

  it('reports every failing volume naming the field, keeps the good ones, and succeeds on retry', async () => {
    const vm = await setup();
    const spec = pod('u2', [
      { name: 'ok', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'later' } },
      { name: 'weird', gitRepo: { repository: 'x' } },
      { name: 'ok', emptyDir: {} },
      { name: 'file', hostPath: { path: join(dir, 'missing-file'), type: 'File' } },
    ]);
    const err = await vm.mountPodVolumes(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PodVolumesError);
    const messages = (err as PodVolumesError).errors.map((e) => e.message);
    expect(messages).toEqual([
      'MountVolume.SetUp failed for volume "weird" : spec.volumes[2].gitRepo: volume type gitRepo is not supported by this kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected, csi, persistentVolumeClaim)',
      'MountVolume.SetUp failed for volume "ok" : spec.volumes[3].name: duplicate volume name "ok"',
      'MountVolume.SetUp failed for volume "cfg" : spec.volumes[1].configMap.name: configmap "later" not found',
      `MountVolume.SetUp failed for volume "file" : hostPath type check failed: ${join(dir, 'missing-file')} is not a file`,
    ]);
    expect((err as PodVolumesError).permanent).toBe(false);
    expect(vm.mountedVolumes('u2')?.has('ok')).toBe(true);

    objects.configMaps.set('default/later', { data: { k: 'v' } });
    writeFileSync(join(dir, 'missing-file'), '');
    const fixed = await vm.mountPodVolumes(pod('u2', [{ name: 'ok', emptyDir: {} }, { name: 'cfg', configMap: { name: 'later' } }, { name: 'file', hostPath: { path: join(dir, 'missing-file'), type: 'File' } }]));
    expect([...fixed.keys()].sort()).toEqual(['cfg', 'file', 'ok']);
  });
});

describe('volume manager: CSI volumes', () => {
  it('publishes inline CSI volumes without staging, at kubelet\'s target path', async () => {
    const vm = await setup();
    const mounted = await vm.mountPodVolumes(pod('u3', [{ name: 'inline', csi: { driver: DRIVER, volumeAttributes: { size: '1Mi' } } }]));
    const target = csiTargetPath(root, 'u3', 'inline');
    expect(target).toBe(join(root, 'pods', 'u3', 'volumes', 'kubernetes.io~csi', 'inline', 'mount'));
    expect(mounted.get('inline')).toEqual({ hostPath: target, readOnly: false });
    expect(journal.entries(match('csi', 'NodeStageVolume'))).toHaveLength(0);
    const publish = journal.last(match('csi', 'NodePublishVolume', { podUid: 'u3' }));
    expect(publish?.subject.volumeId).toBe(inlineCsiVolumeHandle('u3', 'inline'));
    expect(publish?.request).toMatchObject({
      stagingTargetPath: '',
      volumeContext: { size: '1Mi', 'csi.storage.k8s.io/ephemeral': 'true', 'csi.storage.k8s.io/pod.uid': 'u3', 'csi.storage.k8s.io/pod.name': 'pod-u3' },
    });
    expect(JSON.parse(readFileSync(join(target, '..', 'vol_data.json'), 'utf8'))).toMatchObject({ volumeLifecycleMode: 'Ephemeral', driverName: DRIVER });
    await vm.unmountPodVolumes('u3');
    expect(existsSync(join(target, '..'))).toBe(false);
    expect(csi!.driver.snapshot().published).toEqual([]);
  });

  it('stages then publishes a PVC bound to a CSI PV, and unpublishes then unstages on teardown', async () => {
    const vm = await setup();
    const handle = await provision('data', 'pv-data');
    const mounted = await vm.mountPodVolumes(pod('u4', [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }]));
    const target = join(root, 'pods', 'u4', 'volumes', 'kubernetes.io~csi', 'pv-data', 'mount');
    const staging = csiStagingPath(root, DRIVER, handle);
    expect(staging).toMatch(new RegExp(`/plugins/kubernetes.io/csi/${DRIVER}/[0-9a-f]{64}/globalmount$`));
    expect(mounted.get('data')).toEqual({ hostPath: target, readOnly: false });
    expect(journal.last(match('csi', 'NodePublishVolume'))?.request).toMatchObject({ stagingTargetPath: staging, targetPath: target, volumeContext: { tier: 'fast' } });
    expect(manager!.stagedVolumes()).toEqual(new Map([[`kubernetes.io/csi/${DRIVER}^${handle}`, staging]]));

    await vm.unmountPodVolumes('u4');
    assertHappensBefore(journal, [
      ok('NodeStageVolume', { volumeId: handle }),
      ok('NodePublishVolume', { volumeId: handle, podUid: 'u4' }),
      ok('NodeUnpublishVolume', { volumeId: handle }),
      ok('NodeUnstageVolume', { volumeId: handle }),
    ]);
    expect(csi!.driver.snapshot()).toMatchObject({ staged: [], published: [] });
    expect(existsSync(join(staging, '..'))).toBe(false);
    expect(manager!.stagedVolumes().size).toBe(0);
  });

  it('stages a PV shared by two pods once and unstages it after the last pod', async () => {
    const vm = await setup();
    const handle = await provision('shared', 'pv-shared');
    const vol = [{ name: 'v', persistentVolumeClaim: { claimName: 'shared' } }];
    await Promise.all([vm.mountPodVolumes(pod('a', vol)), vm.mountPodVolumes(pod('b', vol))]);
    expect(journal.entries((e) => match('csi', 'NodeStageVolume')(e) && !e.error)).toHaveLength(1);
    expect(journal.entries((e) => match('csi', 'NodePublishVolume')(e) && !e.error)).toHaveLength(2);
    await vm.unmountPodVolumes('a');
    expect(journal.entries(match('csi', 'NodeUnstageVolume'))).toHaveLength(0);
    await vm.unmountPodVolumes('b');
    expect(journal.entries(match('csi', 'NodeUnstageVolume', { volumeId: handle }))).toHaveLength(1);
    expect(csi!.driver.snapshot()).toMatchObject({ staged: [], published: [] });
  });

  it('publishes a PV without staging when the driver does not advertise STAGE_UNSTAGE_VOLUME', async () => {
    const vm = await setup({ stage: false });
    await provision('nostage', 'pv-nostage');
    await vm.mountPodVolumes(pod('u5', [{ name: 'v', persistentVolumeClaim: { claimName: 'nostage', readOnly: true } }]));
    expect(journal.entries(match('csi', 'NodeStageVolume'))).toHaveLength(0);
    expect(journal.last(match('csi', 'NodePublishVolume'))?.request).toMatchObject({ stagingTargetPath: '', readonly: true });
    await vm.unmountPodVolumes('u5');
    expect(journal.entries(match('csi', 'NodeUnstageVolume'))).toHaveLength(0);
  });

  it('turns CSI failures into FailedMount errors and retries only what is missing', async () => {
    const vm = await setup({ faults: [{ method: 'NodePublishVolume', nth: 1, effect: { type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'quota' } }] });
    await provision('flaky', 'pv-flaky');
    const spec = pod('u6', [{ name: 'v', persistentVolumeClaim: { claimName: 'flaky' } }]);
    const err = (await vm.mountPodVolumes(spec).catch((e: unknown) => e)) as PodVolumesError;
    expect(err.errors[0]?.message).toMatch(/^MountVolume.SetUp failed for volume "v" : .*ResourceExhausted: quota/);
    await vm.mountPodVolumes(spec);
    // Staged once: the retry published into the existing staging path.
    expect(journal.entries((e) => match('csi', 'NodeStageVolume')(e) && !e.error)).toHaveLength(1);
    expect(journal.entries(match('csi', 'NodePublishVolume')).map((e) => e.error?.code ?? 'OK')).toEqual(['RESOURCE_EXHAUSTED', 'OK']);
    await vm.unmountPodVolumes('u6');
    expect(csi!.driver.snapshot()).toMatchObject({ staged: [], published: [] });
  });

  it('names unbound claims, missing PVs and unregistered drivers', async () => {
    const vm = await setup();
    objects.pvcs.set('default/pending', { metadata: { name: 'pending' }, spec: {}, status: { phase: 'Pending' } });
    const err = (await vm
      .mountPodVolumes(pod('u7', [
        { name: 'a', persistentVolumeClaim: { claimName: 'pending' } },
        { name: 'b', persistentVolumeClaim: { claimName: 'nope' } },
        { name: 'c', csi: { driver: 'other.csi.example.com' } },
      ]))
      .catch((e: unknown) => e)) as PodVolumesError;
    expect(err.errors.map((e) => e.message)).toEqual([
      'MountVolume.SetUp failed for volume "a" : spec.volumes[0].persistentVolumeClaim.claimName: PVC default/pending is not bound',
      'MountVolume.SetUp failed for volume "b" : spec.volumes[1].persistentVolumeClaim.claimName: persistentvolumeclaim "nope" not found',
      'MountVolume.SetUp failed for volume "c" : driver name other.csi.example.com not found in the list of registered CSI drivers',
    ]);
  });
});

describe('volume manager: metrics', () => {
  it('feeds volume_manager_total_volumes with desired and actual unique volumes per plugin', async () => {
    const vm = await setup();
    await provision('shared', 'pv-shared');
    const metrics = createKubeletMetrics();
    metrics.setVolumeCountsSource(() => vm.counts());
    const vols = (uid: string): V1Volume[] => [
      { name: 'scratch', emptyDir: {} },
      { name: 'data', persistentVolumeClaim: { claimName: 'shared' } },
      { name: 'cfg', configMap: { name: 'absent' } },
    ];
    await vm.mountPodVolumes(pod('m1', vols('m1'))).catch(() => undefined);
    await vm.mountPodVolumes(pod('m2', vols('m2'))).catch(() => undefined);
    const text = await metrics.registry.metrics();
    const value = (plugin: string, state: string): string | undefined =>
      new RegExp(`^volume_manager_total_volumes\\{plugin_name="${plugin.replace(/[.]/g, '\\.')}",state="${state}"\\} (\\d+)$`, 'm').exec(text)?.[1];
    expect(value('kubernetes.io/empty-dir', 'desired_state_of_world')).toBe('2');
    expect(value('kubernetes.io/empty-dir', 'actual_state_of_world')).toBe('2');
    // One PV shared by both pods is one unique volume.
    expect(value(`kubernetes.io/csi:${DRIVER}`, 'desired_state_of_world')).toBe('1');
    expect(value(`kubernetes.io/csi:${DRIVER}`, 'actual_state_of_world')).toBe('1');
    // The configMap is wanted but could not be mounted.
    expect(value('kubernetes.io/configmap', 'desired_state_of_world')).toBe('2');
    expect(value('kubernetes.io/configmap', 'actual_state_of_world')).toBeUndefined();

    await vm.unmountPodVolumes('m1');
    await vm.unmountPodVolumes('m2');
    expect(vm.counts()).toEqual({ desired: {}, actual: {} });
    for (const uid of ['m1', 'm2']) expect(existsSync(join(root, 'pods', uid, 'volumes'))).toBe(false);
  });
});

it('creates the CSI staging directory before NodeStageVolume, as kubelet does', async () => {
  const vm = await setup();
  const handle = await provision('d', 'pv-d');
  mkdirSync(root, { recursive: true });
  await vm.mountPodVolumes(pod('s1', [{ name: 'd', persistentVolumeClaim: { claimName: 'd' } }]));
  expect(readdirSync(csiStagingPath(root, DRIVER, handle))).toContain('.kubelet-harness-csi-staged.json');
  await vm.unmountPodVolumes('s1');
});
