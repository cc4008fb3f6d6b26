import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type * as csi from './csi-types.js';

/** A CSI error: the gRPC status the spec prescribes, with a message naming what was wrong. */
export class CsiRpcError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = 'CsiRpcError';
    this.code = code;
  }
}

const fail = (code: number, message: string): never => {
  throw new CsiRpcError(code, message);
};

export type NodeCapability = 'STAGE_UNSTAGE_VOLUME' | 'GET_VOLUME_STATS' | 'SINGLE_NODE_MULTI_WRITER' | 'VOLUME_CONDITION';
export type ControllerCapability = 'CREATE_DELETE_VOLUME' | 'PUBLISH_UNPUBLISH_VOLUME' | 'LIST_VOLUMES' | 'GET_CAPACITY';
export type PluginCapability = 'CONTROLLER_SERVICE';

export interface FakeCsiCapabilities {
  node?: readonly NodeCapability[];
  controller?: readonly ControllerCapability[];
  plugin?: readonly PluginCapability[];
}

export interface FakeCsiDriverOptions {
  driverName?: string;
  vendorVersion?: string;
  nodeId?: string;
  /** Nodes ControllerPublishVolume accepts (default: this node only). */
  knownNodes?: readonly string[];
  maxVolumesPerNode?: number;
  capabilities?: FakeCsiCapabilities;
  /** Storage the controller can hand out, in bytes (default 1 TiB). */
  totalCapacityBytes?: bigint;
  /** Size of a volume created without a capacity range (default 1 GiB). */
  defaultVolumeBytes?: bigint;
  /**
   * Treat any volume ID the node service sees as an existing volume (pre-provisioned PVs and inline
   * volumes name IDs the controller never created). False: unknown IDs are NOT_FOUND.
   */
  acceptUnknownVolumes?: boolean;
}

export const DEFAULT_CAPABILITIES: Required<FakeCsiCapabilities> = {
  node: ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS'],
  // No PUBLISH_UNPUBLISH_VOLUME by default: like a CSIDriver with attachRequired=false, since the
  // harness runs no attach/detach controller.
  controller: ['CREATE_DELETE_VOLUME', 'LIST_VOLUMES', 'GET_CAPACITY'],
  plugin: ['CONTROLLER_SERVICE'],
};

interface VolumeRecord {
  volumeId: string;
  name: string;
  capacityBytes: bigint;
  parameters: Record<string, string>;
  volumeContext: Record<string, string>;
  capabilities: csi.VolumeCapability__Output[];
  /** ControllerPublishVolume: node → readonly. */
  publishedTo: Map<string, { readonly: boolean }>;
}

export interface StagedVolume {
  volumeId: string;
  stagingTargetPath: string;
  accessType: 'mount' | 'block';
  accessMode: string;
}

export interface PublishedVolume {
  volumeId: string;
  targetPath: string;
  stagingTargetPath: string;
  readonly: boolean;
  accessType: 'mount' | 'block';
  accessMode: string;
  volumeContext: Record<string, string>;
}

/** Marker file the fake writes into staged and published directories. */
export const STAGED_MARKER = '.kubelet-harness-csi-staged.json';
export const PUBLISHED_MARKER = '.kubelet-harness-csi-volume.json';

const SINGLE_WRITER_MODES = new Set(['SINGLE_NODE_SINGLE_WRITER']);
const MULTI_NODE_MODES = new Set(['MULTI_NODE_READER_ONLY', 'MULTI_NODE_SINGLE_WRITER', 'MULTI_NODE_MULTI_WRITER']);

/**
 * The behaviour of a conformant CSI driver (spec v1), without a storage backend: required fields
 * are INVALID_ARGUMENT, stage/publish/unpublish/unstage are idempotent, NodePublishVolume needs a
 * prior NodeStageVolume at the same staging path when STAGE_UNSTAGE_VOLUME is advertised, and
 * target paths are created (a directory for mount volumes, a file for block volumes) and removed
 * again as a real driver does. Filesystem work is synchronous so every RPC is atomic.
 */
export class FakeCsiDriver {
  readonly driverName: string;
  readonly vendorVersion: string;
  readonly nodeId: string;
  readonly capabilities: Required<FakeCsiCapabilities>;
  private readonly knownNodes: ReadonlySet<string>;
  private readonly maxVolumesPerNode: number;
  private readonly totalCapacity: bigint;
  private readonly defaultVolumeBytes: bigint;
  private readonly acceptUnknown: boolean;
  private readonly volumes = new Map<string, VolumeRecord>();
  private readonly staged = new Map<string, StagedVolume>();
  private readonly published = new Map<string, PublishedVolume>();

  constructor(options: FakeCsiDriverOptions = {}) {
    this.driverName = options.driverName ?? 'csi.kubelet-harness.dev';
    if (!/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,61}[a-zA-Z0-9])?$/.test(this.driverName)) {
      throw new Error(`driverName: ${JSON.stringify(this.driverName)} is not a valid CSI driver name (DNS-like, at most 63 characters)`);
    }
    this.vendorVersion = options.vendorVersion ?? '0.0.0';
    this.nodeId = options.nodeId ?? 'fake-node';
    this.knownNodes = new Set(options.knownNodes ?? [this.nodeId]);
    this.maxVolumesPerNode = options.maxVolumesPerNode ?? 0;
    this.capabilities = {
      node: options.capabilities?.node ?? DEFAULT_CAPABILITIES.node,
      controller: options.capabilities?.controller ?? DEFAULT_CAPABILITIES.controller,
      plugin: options.capabilities?.plugin ?? DEFAULT_CAPABILITIES.plugin,
    };
    this.totalCapacity = options.totalCapacityBytes ?? 1n << 40n;
    this.defaultVolumeBytes = options.defaultVolumeBytes ?? 1n << 30n;
    this.acceptUnknown = options.acceptUnknownVolumes ?? true;
  }

  /** What is staged and published now (for tests and leak checks). */
  snapshot(): { staged: StagedVolume[]; published: PublishedVolume[]; volumes: string[] } {
    return {
      staged: [...this.staged.values()].map((s) => ({ ...s })),
      published: [...this.published.values()].map((p) => ({ ...p, volumeContext: { ...p.volumeContext } })),
      volumes: [...this.volumes.keys()],
    };
  }

  // ---- Identity ----

  getPluginInfo(): csi.GetPluginInfoResponse {
    return { name: this.driverName, vendorVersion: this.vendorVersion, manifest: {} };
  }

  getPluginCapabilities(): csi.GetPluginCapabilitiesResponse {
    return { capabilities: this.capabilities.plugin.map((type) => ({ service: { type } })) };
  }

  probe(): csi.ProbeResponse {
    return { ready: { value: true } };
  }

  // ---- Node ----

  nodeGetInfo(): csi.NodeGetInfoResponse {
    return { nodeId: this.nodeId, maxVolumesPerNode: this.maxVolumesPerNode };
  }

  nodeGetCapabilities(): csi.NodeGetCapabilitiesResponse {
    return { capabilities: this.capabilities.node.map((type) => ({ rpc: { type } })) };
  }

  nodeStageVolume(req: csi.NodeStageVolumeRequest__Output): csi.NodeStageVolumeResponse {
    this.requireNodeCapability('STAGE_UNSTAGE_VOLUME', 'NodeStageVolume');
    requireField(req.volumeId, 'volume_id');
    requireField(req.stagingTargetPath, 'staging_target_path');
    const capability = checkCapability(req.volumeCapability, 'volume_capability');
    requireAbsolute(req.stagingTargetPath, 'staging_target_path');
    this.requireVolume(req.volumeId);
    this.requireControllerPublished(req.volumeId);

    const existing = this.staged.get(req.volumeId);
    if (existing) {
      if (existing.stagingTargetPath !== req.stagingTargetPath) {
        fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is already staged at ${existing.stagingTargetPath}`);
      }
      if (existing.accessType !== capability.accessType || existing.accessMode !== capability.accessMode) {
        fail(GrpcStatus.ALREADY_EXISTS, `volume ${req.volumeId} is already staged at ${req.stagingTargetPath} with an incompatible volume_capability`);
      }
      return {};
    }
    // The CO creates the staging directory; a real mount onto a missing directory fails.
    if (!isDirectory(req.stagingTargetPath)) {
      fail(GrpcStatus.INTERNAL, `staging_target_path ${req.stagingTargetPath} does not exist or is not a directory`);
    }
    this.checkVolumeLimit(req.volumeId);
    writeFileSync(
      join(req.stagingTargetPath, STAGED_MARKER),
      JSON.stringify({ volumeId: req.volumeId, driver: this.driverName, accessType: capability.accessType, accessMode: capability.accessMode }),
    );
    this.staged.set(req.volumeId, { volumeId: req.volumeId, stagingTargetPath: req.stagingTargetPath, ...capability });
    return {};
  }

  nodeUnstageVolume(req: csi.NodeUnstageVolumeRequest__Output): csi.NodeUnstageVolumeResponse {
    this.requireNodeCapability('STAGE_UNSTAGE_VOLUME', 'NodeUnstageVolume');
    requireField(req.volumeId, 'volume_id');
    requireField(req.stagingTargetPath, 'staging_target_path');
    const existing = this.staged.get(req.volumeId);
    if (!existing || existing.stagingTargetPath !== req.stagingTargetPath) return {}; // already unstaged
    const stillPublished = [...this.published.values()].filter((p) => p.volumeId === req.volumeId).map((p) => p.targetPath);
    if (stillPublished.length > 0) {
      fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is still published at ${stillPublished.join(', ')}; NodeUnpublishVolume must come first`);
    }
    rmSync(join(req.stagingTargetPath, STAGED_MARKER), { force: true });
    this.staged.delete(req.volumeId);
    return {};
  }

  nodePublishVolume(req: csi.NodePublishVolumeRequest__Output): csi.NodePublishVolumeResponse {
    requireField(req.volumeId, 'volume_id');
    requireField(req.targetPath, 'target_path');
    const capability = checkCapability(req.volumeCapability, 'volume_capability');
    requireAbsolute(req.targetPath, 'target_path');
    // Inline ephemeral volumes come into existence at publish time.
    const ephemeral = req.volumeContext['csi.storage.k8s.io/ephemeral'] === 'true';
    if (!ephemeral) this.requireVolume(req.volumeId);
    // Ephemeral inline volumes are never staged (Kubernetes skips NodeStageVolume for them).
    if (this.hasNodeCapability('STAGE_UNSTAGE_VOLUME') && !ephemeral) {
      if (!req.stagingTargetPath) {
        fail(GrpcStatus.FAILED_PRECONDITION, 'staging_target_path not set; the plugin advertises STAGE_UNSTAGE_VOLUME');
      }
      const staged = this.staged.get(req.volumeId);
      if (!staged || staged.stagingTargetPath !== req.stagingTargetPath) {
        fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is not staged at ${req.stagingTargetPath}; call NodeStageVolume first`);
      }
    } else {
      this.requireControllerPublished(req.volumeId);
    }

    const existing = this.published.get(req.targetPath);
    if (existing) {
      const compatible =
        existing.volumeId === req.volumeId &&
        existing.readonly === req.readonly &&
        existing.accessType === capability.accessType &&
        existing.accessMode === capability.accessMode;
      if (!compatible) fail(GrpcStatus.ALREADY_EXISTS, `target_path ${req.targetPath} is already published with different parameters`);
      return {};
    }
    const elsewhere = [...this.published.values()].find((p) => p.volumeId === req.volumeId);
    if (elsewhere && SINGLE_WRITER_MODES.has(capability.accessMode)) {
      fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} (${capability.accessMode}) is already published at ${elsewhere.targetPath}`);
    }
    if (!isDirectory(dirname(req.targetPath))) {
      fail(GrpcStatus.INTERNAL, `parent directory of target_path ${req.targetPath} does not exist`);
    }
    if (capability.accessType === 'mount') {
      if (exists(req.targetPath) && !isDirectory(req.targetPath)) fail(GrpcStatus.INTERNAL, `target_path ${req.targetPath} is not a directory`);
      mkdirSync(req.targetPath, { recursive: true, mode: 0o750 });
      writeFileSync(
        join(req.targetPath, PUBLISHED_MARKER),
        JSON.stringify({ volumeId: req.volumeId, driver: this.driverName, readonly: req.readonly, volumeContext: req.volumeContext }),
      );
    } else {
      if (exists(req.targetPath) && isDirectory(req.targetPath)) fail(GrpcStatus.INTERNAL, `target_path ${req.targetPath} is a directory; block volumes are published as a file`);
      writeFileSync(req.targetPath, '', { mode: 0o640 });
    }
    this.published.set(req.targetPath, {
      volumeId: req.volumeId,
      targetPath: req.targetPath,
      stagingTargetPath: req.stagingTargetPath,
      readonly: req.readonly,
      ...capability,
      volumeContext: { ...req.volumeContext },
    });
    return {};
  }

  nodeUnpublishVolume(req: csi.NodeUnpublishVolumeRequest__Output): csi.NodeUnpublishVolumeResponse {
    requireField(req.volumeId, 'volume_id');
    requireField(req.targetPath, 'target_path');
    const existing = this.published.get(req.targetPath);
    if (!existing) {
      if (!this.acceptUnknown && !this.volumes.has(req.volumeId)) fail(GrpcStatus.NOT_FOUND, `volume ${req.volumeId} does not exist`);
      return {}; // already unpublished
    }
    if (existing.volumeId !== req.volumeId) {
      fail(GrpcStatus.FAILED_PRECONDITION, `target_path ${req.targetPath} holds volume ${existing.volumeId}, not ${req.volumeId}`);
    }
    // The SP deletes what it created at target_path.
    rmSync(req.targetPath, { recursive: true, force: true });
    this.published.delete(req.targetPath);
    return {};
  }

  nodeGetVolumeStats(req: csi.NodeGetVolumeStatsRequest__Output): csi.NodeGetVolumeStatsResponse {
    this.requireNodeCapability('GET_VOLUME_STATS', 'NodeGetVolumeStats');
    requireField(req.volumeId, 'volume_id');
    requireField(req.volumePath, 'volume_path');
    const published = this.published.get(req.volumePath);
    const staged = this.staged.get(req.volumeId);
    const known = (published && published.volumeId === req.volumeId) || staged?.stagingTargetPath === req.volumePath;
    if (!known) fail(GrpcStatus.NOT_FOUND, `volume ${req.volumeId} is not published or staged at ${req.volumePath}`);
    const total = this.volumes.get(req.volumeId)?.capacityBytes ?? this.defaultVolumeBytes;
    const used = BigInt(diskUsage(req.volumePath));
    const available = total > used ? total - used : 0n;
    return { usage: [{ unit: 'BYTES', total: total.toString(), used: used.toString(), available: available.toString() }] };
  }

  // ---- Controller ----

  controllerGetCapabilities(): csi.ControllerGetCapabilitiesResponse {
    return { capabilities: this.capabilities.controller.map((type) => ({ rpc: { type } })) };
  }

  createVolume(req: csi.CreateVolumeRequest__Output): csi.CreateVolumeResponse {
    this.requireControllerCapability('CREATE_DELETE_VOLUME', 'CreateVolume');
    requireField(req.name, 'name');
    if (req.volumeCapabilities.length === 0) fail(GrpcStatus.INVALID_ARGUMENT, 'volume_capabilities: required');
    req.volumeCapabilities.forEach((c, i) => checkCapability(c, `volume_capabilities[${i}]`));
    if (req.volumeContentSource) fail(GrpcStatus.INVALID_ARGUMENT, 'volume_content_source: not supported by this plugin');
    const required = BigInt(req.capacityRange?.requiredBytes ?? '0');
    const limit = BigInt(req.capacityRange?.limitBytes ?? '0');
    if (required < 0n || limit < 0n) fail(GrpcStatus.INVALID_ARGUMENT, 'capacity_range: bytes must not be negative');
    if (limit > 0n && limit < required) fail(GrpcStatus.INVALID_ARGUMENT, 'capacity_range: limit_bytes is smaller than required_bytes');

    const existing = [...this.volumes.values()].find((v) => v.name === req.name);
    if (existing) {
      const fits = existing.capacityBytes >= required && (limit === 0n || existing.capacityBytes <= limit);
      if (!fits || !sameMap(existing.parameters, req.parameters)) {
        fail(GrpcStatus.ALREADY_EXISTS, `a volume named ${req.name} exists with an incompatible size or parameters`);
      }
      return { volume: this.toVolume(existing) };
    }
    const size = required > 0n ? required : limit > 0n && limit < this.defaultVolumeBytes ? limit : this.defaultVolumeBytes;
    if (size > this.availableCapacity()) {
      fail(GrpcStatus.RESOURCE_EXHAUSTED, `not enough capacity for ${size} bytes (${this.availableCapacity()} available)`);
    }
    const volumeId = `vol-${createHash('sha256').update(req.name).digest('hex').slice(0, 16)}`;
    const record: VolumeRecord = {
      volumeId,
      name: req.name,
      capacityBytes: size,
      parameters: { ...req.parameters },
      volumeContext: { ...req.parameters, name: req.name },
      capabilities: req.volumeCapabilities,
      publishedTo: new Map(),
    };
    this.volumes.set(volumeId, record);
    return { volume: this.toVolume(record) };
  }

  deleteVolume(req: csi.DeleteVolumeRequest__Output): csi.DeleteVolumeResponse {
    this.requireControllerCapability('CREATE_DELETE_VOLUME', 'DeleteVolume');
    requireField(req.volumeId, 'volume_id');
    const record = this.volumes.get(req.volumeId);
    if (!record) return {}; // deleting a missing volume succeeds
    const inUse = [...record.publishedTo.keys()];
    if (inUse.length > 0 || this.staged.has(req.volumeId)) {
      fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is in use (published to ${inUse.join(', ') || this.nodeId})`);
    }
    this.volumes.delete(req.volumeId);
    return {};
  }

  controllerPublishVolume(req: csi.ControllerPublishVolumeRequest__Output): csi.ControllerPublishVolumeResponse {
    this.requireControllerCapability('PUBLISH_UNPUBLISH_VOLUME', 'ControllerPublishVolume');
    requireField(req.volumeId, 'volume_id');
    requireField(req.nodeId, 'node_id');
    const capability = checkCapability(req.volumeCapability, 'volume_capability');
    const record = this.volumes.get(req.volumeId) ?? fail(GrpcStatus.NOT_FOUND, `volume ${req.volumeId} does not exist`);
    if (!this.knownNodes.has(req.nodeId)) fail(GrpcStatus.NOT_FOUND, `node ${req.nodeId} does not exist`);
    const current = record.publishedTo.get(req.nodeId);
    if (current) {
      if (current.readonly !== req.readonly) fail(GrpcStatus.ALREADY_EXISTS, `volume ${req.volumeId} is published to ${req.nodeId} with a different readonly flag`);
    } else {
      const others = [...record.publishedTo.keys()];
      if (others.length > 0 && !MULTI_NODE_MODES.has(capability.accessMode)) {
        fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is published to ${others.join(', ')} and ${capability.accessMode} allows one node`);
      }
      record.publishedTo.set(req.nodeId, { readonly: req.readonly });
    }
    return { publishContext: { devicePath: `/dev/fake/${req.volumeId}` } };
  }

  controllerUnpublishVolume(req: csi.ControllerUnpublishVolumeRequest__Output): csi.ControllerUnpublishVolumeResponse {
    this.requireControllerCapability('PUBLISH_UNPUBLISH_VOLUME', 'ControllerUnpublishVolume');
    requireField(req.volumeId, 'volume_id');
    const record = this.volumes.get(req.volumeId);
    if (!record) return {};
    const nodes = req.nodeId ? [req.nodeId] : [...record.publishedTo.keys()];
    if (nodes.includes(this.nodeId) && this.staged.has(req.volumeId)) {
      fail(GrpcStatus.FAILED_PRECONDITION, `volume ${req.volumeId} is still staged on ${this.nodeId}; NodeUnstageVolume must come first`);
    }
    for (const node of nodes) record.publishedTo.delete(node);
    return {};
  }

  validateVolumeCapabilities(req: csi.ValidateVolumeCapabilitiesRequest__Output): csi.ValidateVolumeCapabilitiesResponse {
    requireField(req.volumeId, 'volume_id');
    if (req.volumeCapabilities.length === 0) fail(GrpcStatus.INVALID_ARGUMENT, 'volume_capabilities: required');
    req.volumeCapabilities.forEach((c, i) => checkCapability(c, `volume_capabilities[${i}]`));
    const record = this.volumes.get(req.volumeId) ?? fail(GrpcStatus.NOT_FOUND, `volume ${req.volumeId} does not exist`);
    // Every access type and mode is supported; parameters must be the ones the volume was created with.
    if (Object.keys(req.parameters).length > 0 && !sameMap(req.parameters, record.parameters)) {
      return { message: 'parameters differ from those the volume was created with' };
    }
    return {
      confirmed: {
        volumeContext: req.volumeContext,
        volumeCapabilities: req.volumeCapabilities as csi.VolumeCapability[],
        parameters: req.parameters,
      },
    };
  }

  listVolumes(req: csi.ListVolumesRequest__Output): csi.ListVolumesResponse {
    this.requireControllerCapability('LIST_VOLUMES', 'ListVolumes');
    if (req.maxEntries < 0) fail(GrpcStatus.INVALID_ARGUMENT, 'max_entries: must not be negative');
    const all = [...this.volumes.values()].sort((a, b) => a.volumeId.localeCompare(b.volumeId));
    let start = 0;
    if (req.startingToken) {
      start = Number(req.startingToken);
      if (!/^\d+$/.test(req.startingToken) || start > all.length) fail(GrpcStatus.ABORTED, `starting_token ${req.startingToken} is not valid`);
    }
    const end = req.maxEntries > 0 ? Math.min(all.length, start + req.maxEntries) : all.length;
    return {
      entries: all.slice(start, end).map((v) => ({ volume: this.toVolume(v), status: { publishedNodeIds: [...v.publishedTo.keys()] } })),
      nextToken: end < all.length ? String(end) : '',
    };
  }

  getCapacity(): csi.GetCapacityResponse {
    this.requireControllerCapability('GET_CAPACITY', 'GetCapacity');
    return { availableCapacity: this.availableCapacity().toString() };
  }

  // ---- helpers ----

  private availableCapacity(): bigint {
    let used = 0n;
    for (const v of this.volumes.values()) used += v.capacityBytes;
    return this.totalCapacity > used ? this.totalCapacity - used : 0n;
  }

  private toVolume(v: VolumeRecord): csi.Volume {
    return { volumeId: v.volumeId, capacityBytes: v.capacityBytes.toString(), volumeContext: v.volumeContext };
  }

  hasNodeCapability(cap: NodeCapability): boolean {
    return this.capabilities.node.includes(cap);
  }

  private requireNodeCapability(cap: NodeCapability, rpc: string): void {
    if (!this.hasNodeCapability(cap)) fail(GrpcStatus.UNIMPLEMENTED, `${rpc} is not supported: the plugin does not advertise ${cap}`);
  }

  private requireControllerCapability(cap: ControllerCapability, rpc: string): void {
    if (!this.capabilities.controller.includes(cap)) {
      fail(GrpcStatus.UNIMPLEMENTED, `${rpc} is not supported: the plugin does not advertise ${cap}`);
    }
  }

  private requireVolume(volumeId: string): void {
    if (!this.acceptUnknown && !this.volumes.has(volumeId)) fail(GrpcStatus.NOT_FOUND, `volume ${volumeId} does not exist`);
  }

  /** With PUBLISH_UNPUBLISH_VOLUME advertised, a controller-created volume must be attached to this node first. */
  private requireControllerPublished(volumeId: string): void {
    if (!this.capabilities.controller.includes('PUBLISH_UNPUBLISH_VOLUME')) return;
    const record = this.volumes.get(volumeId);
    if (record && !record.publishedTo.has(this.nodeId)) {
      fail(GrpcStatus.FAILED_PRECONDITION, `volume ${volumeId} is not published to node ${this.nodeId}; ControllerPublishVolume must come first`);
    }
  }

  private checkVolumeLimit(volumeId: string): void {
    if (this.maxVolumesPerNode <= 0) return;
    const onNode = new Set([...this.staged.keys(), ...[...this.published.values()].map((p) => p.volumeId)]);
    if (!onNode.has(volumeId) && onNode.size >= this.maxVolumesPerNode) {
      fail(GrpcStatus.RESOURCE_EXHAUSTED, `node ${this.nodeId} already has ${onNode.size} volumes (max_volumes_per_node)`);
    }
  }
}

function requireField(value: string, field: string): void {
  if (!value) fail(GrpcStatus.INVALID_ARGUMENT, `${field}: required`);
}

function requireAbsolute(path: string, field: string): void {
  if (!isAbsolute(path)) fail(GrpcStatus.INVALID_ARGUMENT, `${field}: must be an absolute path (got ${JSON.stringify(path)})`);
}

function checkCapability(
  capability: csi.VolumeCapability__Output | null,
  field: string,
): { accessType: 'mount' | 'block'; accessMode: string } {
  if (!capability) return fail(GrpcStatus.INVALID_ARGUMENT, `${field}: required`);
  const accessType = capability.accessType;
  if (accessType !== 'mount' && accessType !== 'block') {
    return fail(GrpcStatus.INVALID_ARGUMENT, `${field}.access_type: one of mount or block is required`);
  }
  const mode = capability.accessMode?.mode;
  if (!mode || mode === 'UNKNOWN') return fail(GrpcStatus.INVALID_ARGUMENT, `${field}.access_mode: required`);
  return { accessType, accessMode: mode };
}

function sameMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function diskUsage(path: string): number {
  let total = 0;
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop() as string;
    let st;
    try {
      st = lstatSync(p);
    } catch {
      continue;
    }
    total += st.size;
    if (st.isDirectory()) for (const name of readdirSync(p)) stack.push(join(p, name));
  }
  return total;
}
