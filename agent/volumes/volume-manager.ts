import { chmodSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { V1ConfigMap, V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { realClock } from '../clock/real-clock.js';
import type { VolumeCounts } from '../metrics/kubelet-metrics.js';
import { writeAtomically } from './atomic-writer.js';
import { CsiDrivers, type CsiDriverRegistration } from './csi-drivers.js';
import {
  csiUniqueName,
  inlineCsiSpec,
  persistentCsiSpec,
  setUpCsiVolume,
  unpublishCsiVolume,
  unstageCsiVolume,
  type CsiVolumeSpec,
  type SecretRef,
} from './csi-volume.js';
import { VolumeError } from './errors.js';
import { checkHostPath, type HostPathType } from './host-path.js';
import { PLUGIN, podVolumeDir, podVolumesDir, type PluginName } from './paths.js';
import { classifyPodVolumes, type ClassifiedVolume } from './pod-volumes.js';
import { downwardAPIPayload, type NodeAllocatable } from './downward-api.js';
import { projectedPayload, projectedReferences } from './projected.js';
import { ProjectionError, configMapPayload, secretPayload, type Payload } from './projection.js';
import type { PodVolumeManager } from '../podworkers/volumes.js';

/** A volume as mounted on the node: what the runtime manager bind-mounts into containers. */
export interface MountedVolume {
  readonly hostPath: string;
  readonly readOnly?: boolean;
}

/** API objects volumes refer to; null = does not exist. Static pods without an API server get nulls. */
export interface VolumeObjectSource {
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | null>;
  getSecret(namespace: string, name: string): Promise<V1Secret | null>;
  getPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | null>;
  getPersistentVolume(name: string): Promise<V1PersistentVolume | null>;
}

export interface VolumeManagerOptions {
  /** kubelet --root-dir (pods/ and plugins/ live under it). */
  rootDir: string;
  nodeName: string;
  objects: VolumeObjectSource;
  csiDrivers?: readonly CsiDriverRegistration[];
  clock?: Clock;
  /** Node allocatable, for downward API `limits.*` of containers without limits. */
  nodeAllocatable?: () => NodeAllocatable | undefined;
}

/** All volume errors of one pod; `errors` has one VolumeError per failed volume. */
export class PodVolumesError extends Error {
  override readonly name = 'PodVolumesError';
  readonly errors: readonly VolumeError[];
  constructor(podUid: string, errors: readonly VolumeError[]) {
    super(`unmounted volumes=[${errors.map((e) => e.volumeName).join(' ')}] of pod ${podUid}: ${errors.map((e) => e.message).join('; ')}`);
    this.errors = errors;
  }
  /** True when no error can go away by retrying (spec problems only). */
  get permanent(): boolean {
    return this.errors.every((e) => e.permanent);
  }
}

/** What setting up a volume produced, kept so teardown works without the API objects. */
type Mounted =
  | { kind: 'emptyDir' | 'configMap' | 'secret' | 'downwardAPI' | 'projected'; plugin: PluginName; unique: string; hostPath: string; readOnly: boolean }
  | { kind: 'hostPath'; plugin: PluginName; unique: string; hostPath: string; readOnly: boolean }
  | { kind: 'csi'; plugin: PluginName; unique: string; hostPath: string; readOnly: boolean; spec: CsiVolumeSpec; stagingPath?: string };

interface PodEntry {
  pod: V1Pod;
  /** Desired: volume name → metrics plugin name and unique name (when known). */
  desired: Map<string, { metricsPlugin: string; unique: string }>;
  /** Actual: volume name → what is mounted. */
  mounted: Map<string, Mounted>;
}

/**
 * The kubelet's volume manager, per pod: the desired state (volumes of admitted pods) and the actual
 * state (what is set up), setting up emptyDir, hostPath, configMap and secret volumes locally and
 * CSI volumes (inline, and PVCs bound to CSI PVs) through their drivers. It feeds
 * volume_manager_total_volumes through `counts()`. Calls for one pod are expected to be serial (the
 * pod worker's job); a CSI volume shared by pods is staged once and unstaged with its last user.
 */
export class VolumeManager implements PodVolumeManager {
  readonly drivers: CsiDrivers;
  private readonly rootDir: string;
  private readonly nodeName: string;
  private readonly objects: VolumeObjectSource;
  private readonly clock: Clock;
  private readonly nodeAllocatable: () => NodeAllocatable | undefined;
  private readonly pods = new Map<string, PodEntry>();
  /** Staged CSI volumes: unique name → staging path. */
  private readonly staged = new Map<string, string>();
  private readonly locks = new Map<string, Promise<void>>();

  constructor(options: VolumeManagerOptions) {
    this.rootDir = options.rootDir;
    this.nodeName = options.nodeName;
    this.objects = options.objects;
    this.clock = options.clock ?? realClock;
    this.nodeAllocatable = options.nodeAllocatable ?? (() => undefined);
    this.drivers = new CsiDrivers(options.csiDrivers ?? [], this.clock);
  }

  /**
   * Sets up every volume of the pod (retrying only what is not mounted yet; configMap and secret
   * contents are re-projected each time, as kubelet's periodic remount does) and returns them by
   * volume name. Throws PodVolumesError listing each volume that failed; those mounted stay mounted.
   */
  async mountPodVolumes(pod: V1Pod): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata?.uid;
    if (!uid) throw new PodVolumesError('(no uid)', [new VolumeError({ operation: 'SetUp', volumeName: '', field: 'metadata.uid', reason: 'required', permanent: true })]);
    const entry = this.pods.get(uid) ?? { pod, desired: new Map(), mounted: new Map() };
    entry.pod = pod;
    this.pods.set(uid, entry);

    const { volumes, problems } = classifyPodVolumes(pod);
    const errors: VolumeError[] = problems.map(
      (p) => new VolumeError({ operation: 'SetUp', volumeName: p.volumeName, field: p.field, reason: p.message, permanent: true }),
    );
    for (const v of volumes) {
      // PVC-backed volumes join the desired state once their PV is known (as in kubelet's populator).
      const plugin = metricsPluginOfKind(v);
      if (plugin && !entry.desired.has(v.volume.name)) entry.desired.set(v.volume.name, { metricsPlugin: plugin, unique: '' });
    }
    for (const v of volumes) {
      const already = entry.mounted.get(v.volume.name);
      if (already && !PROJECTED_KINDS.has(already.kind)) continue;
      try {
        const mounted = await this.setUp(pod, v, (metricsPlugin, unique) => entry.desired.set(v.volume.name, { metricsPlugin, unique }));
        entry.desired.set(v.volume.name, { metricsPlugin: metricsPlugin(mounted), unique: mounted.unique });
        entry.mounted.set(v.volume.name, mounted);
      } catch (err) {
        errors.push(toVolumeError(err, v));
      }
    }
    if (errors.length > 0) throw new PodVolumesError(uid, errors);
    const out = new Map<string, MountedVolume>();
    for (const [name, m] of entry.mounted) out.set(name, { hostPath: m.hostPath, readOnly: m.readOnly });
    return out;
  }

  /** The pod's mounted volumes (as mountPodVolumes returned them), or undefined. */
  mountedVolumes(podUid: string): Map<string, MountedVolume> | undefined {
    const entry = this.pods.get(podUid);
    if (!entry) return undefined;
    return new Map([...entry.mounted].map(([name, m]) => [name, { hostPath: m.hostPath, readOnly: m.readOnly }]));
  }

  /**
   * Tears down every volume of the pod in reverse order (CSI: NodeUnpublishVolume, then
   * NodeUnstageVolume when no other pod uses the volume), removes the pod's volume directories and
   * drops the pod from the desired state. Throws PodVolumesError when some teardown failed; those
   * volumes stay recorded so a retry finishes the job.
   */
  async unmountPodVolumes(podOrUid: V1Pod | string): Promise<void> {
    const podUid = typeof podOrUid === 'string' ? podOrUid : (podOrUid.metadata?.uid ?? '');
    const entry = this.pods.get(podUid);
    if (!entry) return;
    entry.desired.clear();
    const errors: VolumeError[] = [];
    for (const [name, m] of [...entry.mounted].reverse()) {
      try {
        await this.tearDown(podUid, m);
        entry.mounted.delete(name);
      } catch (err) {
        errors.push(new VolumeError({ operation: 'TearDown', volumeName: name, reason: (err as Error).message }));
      }
    }
    if (errors.length > 0) throw new PodVolumesError(podUid, errors);
    this.pods.delete(podUid);
    removeTreeIfOnlyDirs(podVolumesDir(this.rootDir, podUid));
  }

  /** Pods with desired or mounted volumes. */
  podUids(): string[] {
    return [...this.pods.keys()];
  }

  /** CSI volumes staged on the node (unique name → staging path), for leak checks. */
  stagedVolumes(): Map<string, string> {
    return new Map(this.staged);
  }

  /**
   * Unique volumes per plugin in the desired and actual states, as volume_manager_total_volumes
   * reports them (CSI plugins qualified by driver: `kubernetes.io/csi:<driver>`).
   */
  counts(): VolumeCounts {
    const desired = new Map<string, Set<string>>();
    const actual = new Map<string, Set<string>>();
    const add = (map: Map<string, Set<string>>, plugin: string, unique: string): void => {
      const set = map.get(plugin) ?? new Set<string>();
      set.add(unique);
      map.set(plugin, set);
    };
    for (const [uid, entry] of this.pods) {
      for (const [name, d] of entry.desired) add(desired, d.metricsPlugin, d.unique || `${uid}/${name}`);
      for (const m of entry.mounted.values()) add(actual, metricsPlugin(m), m.unique);
    }
    const count = (map: Map<string, Set<string>>): Record<string, number> => Object.fromEntries([...map].map(([k, v]) => [k, v.size]));
    return { desired: count(desired), actual: count(actual) };
  }

  close(): void {
    this.drivers.close();
  }

  // ---- set up / tear down ----

  private async setUp(pod: V1Pod, v: ClassifiedVolume, resolved: (metricsPlugin: string, unique: string) => void): Promise<Mounted> {
    const uid = pod.metadata!.uid!;
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = v.volume.name;
    const local = (kind: 'emptyDir' | 'configMap' | 'secret' | 'downwardAPI' | 'projected', plugin: PluginName, readOnly: boolean): Mounted => ({
      kind,
      plugin,
      unique: `${plugin}/${uid}-${name}`,
      hostPath: podVolumeDir(this.rootDir, uid, plugin, name),
      readOnly,
    });
    switch (v.kind) {
      case 'emptyDir': {
        const m = local('emptyDir', PLUGIN.emptyDir, false);
        mkdirSync(m.hostPath, { recursive: true });
        chmodSync(m.hostPath, 0o777); // kubelet makes emptyDir world-writable
        return m;
      }
      case 'hostPath': {
        const src = v.volume.hostPath!;
        checkHostPath(src.path, (src.type ?? '') as HostPathType);
        return { kind: 'hostPath', plugin: PLUGIN.hostPath, unique: `${PLUGIN.hostPath}/${uid}-${name}`, hostPath: src.path, readOnly: false };
      }
      case 'configMap': {
        const src = v.volume.configMap!;
        const payload = configMapPayload(src, await this.objects.getConfigMap(namespace, src.name!), `${v.field}.configMap`);
        const m = local('configMap', PLUGIN.configMap, true);
        writeAtomically(m.hostPath, payload, this.clock);
        return m;
      }
      case 'secret': {
        const src = v.volume.secret!;
        const payload = secretPayload(src, await this.objects.getSecret(namespace, src.secretName!), `${v.field}.secret`);
        const m = local('secret', PLUGIN.secret, true);
        writeAtomically(m.hostPath, payload, this.clock);
        return m;
      }
      case 'downwardAPI': {
        const src = v.volume.downwardAPI!;
        return this.project(local('downwardAPI', PLUGIN.downwardAPI, true), downwardAPIPayload(pod, src.items ?? [], src.defaultMode, `${v.field}.downwardAPI`, this.nodeAllocatable()));
      }
      case 'projected': {
        const src = v.volume.projected!;
        const refs = projectedReferences(src);
        const configMaps = new Map(await Promise.all(refs.configMaps.map(async (n) => [n, await this.objects.getConfigMap(namespace, n)] as const)));
        const secrets = new Map(await Promise.all(refs.secrets.map(async (n) => [n, await this.objects.getSecret(namespace, n)] as const)));
        const payload = projectedPayload(pod, src, { configMaps, secrets }, `${v.field}.projected`, this.nodeAllocatable());
        return this.project(local('projected', PLUGIN.projected, true), payload);
      }
      case 'csi':
        return this.setUpCsi(pod, inlineCsiSpec(pod, v.volume));
      case 'persistentVolumeClaim': {
        const claim = v.volume.persistentVolumeClaim!;
        const pvc = await this.objects.getPersistentVolumeClaim(namespace, claim.claimName);
        if (!pvc) throw new VolumeSetUpFailure(`persistentvolumeclaim ${JSON.stringify(claim.claimName)} not found`, `${v.field}.persistentVolumeClaim.claimName`);
        const pvName = pvc.spec?.volumeName;
        if (pvc.status?.phase !== 'Bound' || !pvName) {
          throw new VolumeSetUpFailure(`PVC ${namespace}/${claim.claimName} is not bound`, `${v.field}.persistentVolumeClaim.claimName`);
        }
        const pv = await this.objects.getPersistentVolume(pvName);
        if (!pv) throw new VolumeSetUpFailure(`persistentvolume ${JSON.stringify(pvName)} not found`);
        if (pv.spec?.volumeMode === 'Block') throw new VolumeSetUpFailure('block volumes (volumeMode: Block) are not supported by this kubelet', undefined, true);
        if (pv.spec?.csi) {
          const spec = persistentCsiSpec(pv, claim.readOnly ?? false);
          resolved(`${PLUGIN.csi}:${spec.driver}`, csiUniqueName(spec));
          return this.setUpCsi(pod, spec);
        }
        if (pv.spec?.hostPath || pv.spec?.local) {
          const path = pv.spec.hostPath?.path ?? pv.spec.local!.path;
          resolved(PLUGIN.hostPath, `${PLUGIN.hostPath}/${pvName}`);
          checkHostPath(path, (pv.spec.hostPath?.type ?? '') as HostPathType);
          return { kind: 'hostPath', plugin: PLUGIN.hostPath, unique: `${PLUGIN.hostPath}/${pvName}`, hostPath: path, readOnly: claim.readOnly ?? false };
        }
        throw new VolumeSetUpFailure(`persistentvolume ${pvName} uses a volume type this kubelet does not support (supported: csi, hostPath, local)`, undefined, true);
      }
    }
  }

  private project(m: Mounted, payload: Payload): Mounted {
    writeAtomically(m.hostPath, payload, this.clock);
    return m;
  }

  private async setUpCsi(pod: V1Pod, spec: CsiVolumeSpec): Promise<Mounted> {
    const unique = csiUniqueName(spec);
    return this.withLock(unique, async () => {
      const result = await setUpCsiVolume(spec, {
        rootDir: this.rootDir,
        nodeName: this.nodeName,
        pod,
        drivers: this.drivers,
        getSecret: (ref) => this.decodedSecret(ref),
        isStaged: (u) => this.staged.has(u),
        markStaged: (u, path) => this.staged.set(u, path),
      });
      return {
        kind: 'csi' as const,
        plugin: PLUGIN.csi,
        unique,
        hostPath: result.targetPath,
        readOnly: spec.readOnly,
        spec,
        ...(result.stagingPath ? { stagingPath: result.stagingPath } : {}),
      };
    });
  }

  private async tearDown(podUid: string, m: Mounted): Promise<void> {
    switch (m.kind) {
      case 'emptyDir':
      case 'configMap':
      case 'secret':
      case 'downwardAPI':
      case 'projected':
        rmSync(m.hostPath, { recursive: true, force: true });
        return;
      case 'hostPath':
        return; // the node's own path stays
      case 'csi':
        await this.withLock(m.unique, async () => {
          await unpublishCsiVolume(m.spec, m.hostPath, this.drivers);
          const stagingPath = this.staged.get(m.unique);
          const stillUsed = [...this.pods].some(
            ([uid, e]) => uid !== podUid && [...e.mounted.values()].some((o) => o.unique === m.unique),
          );
          if (stagingPath && !stillUsed) {
            await unstageCsiVolume(m.spec, stagingPath, this.drivers);
            this.staged.delete(m.unique);
          }
        });
    }
  }

  private async decodedSecret(ref: SecretRef): Promise<Record<string, string> | null> {
    const secret = await this.objects.getSecret(ref.namespace, ref.name);
    if (!secret) return null;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
    for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
    return out;
  }

  /** Serialises operations on one unique volume (a PV shared by pods is staged/unstaged once). */
  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((r) => (release = r));
    const chained = previous.then(() => current);
    this.locks.set(key, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(key) === chained) this.locks.delete(key);
    }
  }
}

/** Volumes whose contents come from API objects or the pod: projected again on every sync. */
const PROJECTED_KINDS: ReadonlySet<string> = new Set(['configMap', 'secret', 'downwardAPI', 'projected']);

class VolumeSetUpFailure extends Error {
  readonly field: string | undefined;
  readonly permanent: boolean;
  constructor(message: string, field?: string, permanent = false) {
    super(message);
    this.field = field;
    this.permanent = permanent;
  }
}

function toVolumeError(err: unknown, v: ClassifiedVolume): VolumeError {
  const e = err as Error & { field?: string; permanent?: boolean };
  const field = err instanceof ProjectionError || err instanceof VolumeSetUpFailure ? e.field : undefined;
  const permanent = err instanceof ProjectionError || err instanceof VolumeSetUpFailure ? (e.permanent ?? false) : false;
  return new VolumeError({ operation: 'SetUp', volumeName: v.volume.name, reason: e.message, ...(field ? { field } : {}), permanent });
}

function metricsPlugin(m: Mounted): string {
  return m.kind === 'csi' ? `${PLUGIN.csi}:${m.spec.driver}` : m.plugin;
}

/** Plugin name of a desired volume; undefined for PVC-backed ones until their PV is known. */
function metricsPluginOfKind(v: ClassifiedVolume): string | undefined {
  switch (v.kind) {
    case 'csi':
      return `${PLUGIN.csi}:${v.volume.csi!.driver}`;
    case 'persistentVolumeClaim':
      return undefined;
    default:
      return PLUGIN[v.kind];
  }
}

/** Removes a directory tree that holds only (empty) directories; anything else keeps it. */
function removeTreeIfOnlyDirs(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) removeTreeIfOnlyDirs(join(dir, name));
  try {
    rmdirSync(dir);
  } catch {
    // not empty (a file survived): leave it for inspection
  }
}
