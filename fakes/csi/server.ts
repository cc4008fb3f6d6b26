import { chmod, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { loadCsiProto } from '../../agent/runtime/proto.js';
import { GrpcFaultInjector, waitForFault, type GrpcFaultRule } from '../faults/grpc-faults.js';
import type { Journal } from '../journal/journal.js';
import type * as csi from './csi-types.js';
import { CsiRpcError, FakeCsiDriver, type FakeCsiDriverOptions } from './driver.js';

export interface StartFakeCsiOptions extends FakeCsiDriverOptions {
  /** Path of the unix socket to listen on (created 0600; an existing file there is replaced). */
  socketPath: string;
  journal: Journal;
  clock?: Clock;
  faults?: readonly GrpcFaultRule[];
  /** Seed of the fault injector's probability draws. */
  seed?: number;
}

export interface FakeCsi {
  readonly socketPath: string;
  /** `unix:///path`, for gRPC clients. */
  readonly endpoint: string;
  readonly driver: FakeCsiDriver;
  readonly faults: GrpcFaultInjector;
  stop(): Promise<void>;
}

export const CSI_METHODS = {
  Identity: ['GetPluginInfo', 'GetPluginCapabilities', 'Probe'],
  Node: ['NodeStageVolume', 'NodeUnstageVolume', 'NodePublishVolume', 'NodeUnpublishVolume', 'NodeGetVolumeStats', 'NodeGetCapabilities', 'NodeGetInfo'],
  Controller: [
    'CreateVolume',
    'DeleteVolume',
    'ControllerPublishVolume',
    'ControllerUnpublishVolume',
    'ValidateVolumeCapabilities',
    'ListVolumes',
    'GetCapacity',
    'ControllerGetCapabilities',
  ],
} as const;

type Handler<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/**
 * Serves the fake CSI driver (Identity, Node and, when CONTROLLER_SERVICE is advertised, Controller)
 * over gRPC on a unix socket. Every RPC is journaled (source 'csi') when it completes, after any
 * injected delay; concurrent operations on one volume get ABORTED, as the spec asks of plugins.
 */
export async function startFakeCsi(options: StartFakeCsiOptions): Promise<FakeCsi> {
  const clock = options.clock ?? realClock;
  const driver = new FakeCsiDriver(options);
  const known = new Set<string>([...CSI_METHODS.Identity, ...CSI_METHODS.Node, ...CSI_METHODS.Controller]);
  const faults = new GrpcFaultInjector(options.faults ?? [], { seed: options.seed, knownMethods: known });
  const inFlight = new Set<string>();
  const stopping = new AbortController();
  const { journal } = options;

  const unary = <Req, Res>(method: string, serve: (req: Req) => Res, lockKey?: (req: Req) => string): Handler<Req, Res> => {
    return (call, callback) => {
      void (async () => {
        const request = call.request;
        const subject = subjectOf(request);
        const cancelled = new AbortController();
        const onCancel = (): void => cancelled.abort(new CsiRpcError(grpc.status.CANCELLED, `${method} was cancelled by the client`));
        call.on('cancelled', onCancel);
        const onStop = (): void => cancelled.abort(new CsiRpcError(grpc.status.UNAVAILABLE, 'fake CSI driver is stopping'));
        stopping.signal.addEventListener('abort', onStop, { once: true });
        const key = lockKey?.(request);
        let locked = false;
        try {
          if (key) {
            if (inFlight.has(key)) throw new CsiRpcError(grpc.status.ABORTED, `an operation for ${key} is already in progress`);
            inFlight.add(key);
            locked = true;
          }
          const decision = faults.decide(method, request);
          await waitForFault(decision, clock, cancelled.signal);
          if (decision.error) throw new CsiRpcError(decision.error.code, decision.error.message);
          const response = serve(request);
          journal.append({ source: 'csi', kind: 'rpc', name: method, subject, request: redact(request), response });
          callback(null, response);
        } catch (err) {
          const e = err instanceof CsiRpcError ? err : new CsiRpcError(grpc.status.INTERNAL, (err as Error).message);
          journal.append({
            source: 'csi',
            kind: 'rpc',
            name: method,
            subject,
            request: redact(request),
            error: { code: grpc.status[e.code] ?? e.code, message: e.message },
          });
          callback({ code: e.code, details: e.message });
        } finally {
          if (locked && key) inFlight.delete(key);
          call.off('cancelled', onCancel);
          stopping.signal.removeEventListener('abort', onStop);
        }
      })();
    };
  };
  const byVolume = (req: { volumeId: string }): string => `volume ${req.volumeId}`;

  const identity: csi.IdentityHandlers = {
    GetPluginInfo: unary('GetPluginInfo', () => driver.getPluginInfo()),
    GetPluginCapabilities: unary('GetPluginCapabilities', () => driver.getPluginCapabilities()),
    Probe: unary('Probe', () => driver.probe()),
  };
  const node: Partial<csi.NodeHandlers> = {
    NodeStageVolume: unary('NodeStageVolume', (r: csi.NodeStageVolumeRequest__Output) => driver.nodeStageVolume(r), byVolume),
    NodeUnstageVolume: unary('NodeUnstageVolume', (r: csi.NodeUnstageVolumeRequest__Output) => driver.nodeUnstageVolume(r), byVolume),
    NodePublishVolume: unary('NodePublishVolume', (r: csi.NodePublishVolumeRequest__Output) => driver.nodePublishVolume(r), byVolume),
    NodeUnpublishVolume: unary('NodeUnpublishVolume', (r: csi.NodeUnpublishVolumeRequest__Output) => driver.nodeUnpublishVolume(r), byVolume),
    NodeGetVolumeStats: unary('NodeGetVolumeStats', (r: csi.NodeGetVolumeStatsRequest__Output) => driver.nodeGetVolumeStats(r)),
    NodeGetCapabilities: unary('NodeGetCapabilities', () => driver.nodeGetCapabilities()),
    NodeGetInfo: unary('NodeGetInfo', () => driver.nodeGetInfo()),
  };
  const controller: Partial<csi.ControllerHandlers> = {
    CreateVolume: unary('CreateVolume', (r: csi.CreateVolumeRequest__Output) => driver.createVolume(r), (r) => `name ${r.name}`),
    DeleteVolume: unary('DeleteVolume', (r: csi.DeleteVolumeRequest__Output) => driver.deleteVolume(r), byVolume),
    ControllerPublishVolume: unary('ControllerPublishVolume', (r: csi.ControllerPublishVolumeRequest__Output) => driver.controllerPublishVolume(r), byVolume),
    ControllerUnpublishVolume: unary(
      'ControllerUnpublishVolume',
      (r: csi.ControllerUnpublishVolumeRequest__Output) => driver.controllerUnpublishVolume(r),
      byVolume,
    ),
    ValidateVolumeCapabilities: unary('ValidateVolumeCapabilities', (r: csi.ValidateVolumeCapabilitiesRequest__Output) =>
      driver.validateVolumeCapabilities(r),
    ),
    ListVolumes: unary('ListVolumes', (r: csi.ListVolumesRequest__Output) => driver.listVolumes(r)),
    GetCapacity: unary('GetCapacity', () => driver.getCapacity()),
    ControllerGetCapabilities: unary('ControllerGetCapabilities', () => driver.controllerGetCapabilities()),
  };

  const proto = loadCsiProto();
  const server = new grpc.Server();
  server.addService(proto.Identity.service, identity);
  // Methods without a handler (expansion, snapshots, ...) answer UNIMPLEMENTED, as the spec allows.
  server.addService(proto.Node.service, node as grpc.UntypedServiceImplementation);
  if (driver.capabilities.plugin.includes('CONTROLLER_SERVICE')) {
    server.addService(proto.Controller.service, controller as grpc.UntypedServiceImplementation);
  }
  await rm(options.socketPath, { force: true });
  const endpoint = `unix://${options.socketPath}`;
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()));
  });
  await chmod(options.socketPath, 0o600);

  return {
    socketPath: options.socketPath,
    endpoint,
    driver,
    faults,
    async stop() {
      stopping.abort();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await rm(options.socketPath, { force: true });
    },
  };
}

/** Identifiers for journal queries: volume, paths, node, and the pod UID kubelet puts in its paths. */
function subjectOf(request: unknown): Record<string, string> {
  const r = (request ?? {}) as Record<string, unknown>;
  const subject: Record<string, string> = {};
  for (const key of ['volumeId', 'targetPath', 'stagingTargetPath', 'nodeId', 'name', 'volumePath'] as const) {
    const v = r[key];
    if (typeof v === 'string' && v !== '') subject[key] = v;
  }
  const path = subject.targetPath ?? subject.volumePath;
  const podUid = path ? /\/pods\/([^/]+)\/volumes\//.exec(path)?.[1] : undefined;
  if (podUid) subject.podUid = podUid;
  const ctx = r.volumeContext as Record<string, string> | undefined;
  if (!subject.podUid && ctx?.['csi.storage.k8s.io/pod.uid']) subject.podUid = ctx['csi.storage.k8s.io/pod.uid'];
  return subject;
}

/** Secrets never reach the journal. */
function redact(request: unknown): unknown {
  const r = request as Record<string, unknown> | null;
  if (!r || typeof r !== 'object' || !r.secrets || typeof r.secrets !== 'object') return request;
  const secrets = Object.fromEntries(Object.keys(r.secrets as object).map((k) => [k, '<redacted>']));
  return { ...r, secrets };
}
