import { rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { loadCsiProto } from '../../agent/runtime/proto.js';
import { codeName, parseCode } from '../cri/errors.js';
import { FaultInjector, type FaultRule } from '../cri/faults.js';
import { listenGrpcUnix, type GrpcUnixListener } from '../grpc/unix-listener.js';
import type { Journal } from '../journal/journal.js';
import type * as csi from './csi-types.js';
import { CsiRpcError, FakeCsiDriver, type FakeCsiDriverOptions } from './driver.js';

export interface StartFakeCsiOptions extends FakeCsiDriverOptions {
  /** Path of the unix socket to listen on (created 0600; an existing file there is replaced). */
  socketPath: string;
  journal: Journal;
  clock?: Clock;
  /** Fault rules, in the same shape as the fake CRI's (fakes/cri/faults.ts). */
  faults?: readonly FaultRule[];
  /** Seed of the fault injector's probability draws. */
  seed?: number;
}

export interface FakeCsi {
  readonly socketPath: string;
  /** `unix:///path`, for gRPC clients. */
  readonly endpoint: string;
  /** The driver's current state (replaced by a fresh one when a restart loses state). */
  readonly driver: FakeCsiDriver;
  readonly faults: FaultInjector;
  /** Restarts the plugin: the socket closes, every call in flight fails, and it listens again after downMs. */
  restart(options?: { keepState?: boolean; downMs?: number }): Promise<void>;
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

const KNOWN_METHODS: ReadonlySet<string> = new Set([...CSI_METHODS.Identity, ...CSI_METHODS.Node, ...CSI_METHODS.Controller]);

/** Rejects rules naming a method the fake does not serve, so a typo fails at start, not silently. */
function checkRuleMethods(rules: readonly FaultRule[]): void {
  rules.forEach((rule, i) => {
    if (typeof rule.method === 'string' && !KNOWN_METHODS.has(rule.method)) {
      throw new Error(`faults[${i}].method: unknown CSI method ${JSON.stringify(rule.method)}`);
    }
  });
}

type Handler<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/**
 * Serves the fake CSI driver (Identity, Node and, when CONTROLLER_SERVICE is advertised, Controller)
 * over gRPC on a unix socket. Every RPC is journaled (source 'csi') when it completes, after any
 * injected delay; concurrent operations on one volume get ABORTED, as the spec asks of plugins.
 * Faults follow the fake CRI's rules: error, delay, hang (until the caller's deadline) and restart.
 */
export async function startFakeCsi(options: StartFakeCsiOptions): Promise<FakeCsi> {
  const clock = options.clock ?? realClock;
  let driver = new FakeCsiDriver(options);
  checkRuleMethods(options.faults ?? []);
  const faults = new FaultInjector(options.faults ?? [], options.seed ?? 1);
  const inFlight = new Set<string>();
  const { journal } = options;
  /** Calls waiting on a hang or a delay; a restart or stop ends them. */
  const waiting = new Set<AbortController>();
  let server: grpc.Server | undefined;
  let listener: GrpcUnixListener | undefined;
  let restarting: Promise<void> | undefined;

  const unary = <Req, Res>(method: string, serve: (req: Req) => Res, lockKey?: (req: Req) => string): Handler<Req, Res> => {
    return (call, callback) => {
      void (async () => {
        const request = call.request;
        const subject = subjectOf(request);
        const cancelled = new AbortController();
        const onCancel = (): void => cancelled.abort(new CsiRpcError(grpc.status.CANCELLED, `${method} was cancelled by the client`));
        call.on('cancelled', onCancel);
        waiting.add(cancelled);
        const key = lockKey?.(request);
        let locked = false;
        try {
          if (key) {
            if (inFlight.has(key)) throw new CsiRpcError(grpc.status.ABORTED, `an operation for ${key} is already in progress`);
            inFlight.add(key);
            locked = true;
          }
          await applyFaults(method, request, subject, cancelled.signal);
          const response = serve(request);
          journal.append({ source: 'csi', kind: 'rpc', name: method, subject, request: redact(request), response });
          callback(null, response);
        } catch (err) {
          const e = err instanceof CsiRpcError ? err : new CsiRpcError(grpc.status.INTERNAL, (err as Error).message);
          journal.append({ source: 'csi', kind: 'rpc', name: method, subject, request: redact(request), error: { code: codeName(e.code), message: e.message } });
          callback({ code: e.code, details: e.message });
        } finally {
          if (locked && key) inFlight.delete(key);
          waiting.delete(cancelled);
          call.off('cancelled', onCancel);
        }
      })();
    };
  };

  /** Applies the fired rules in order: delays add up; an error, hang or restart ends the call. */
  const applyFaults = async (method: string, request: unknown, subject: Record<string, string>, signal: AbortSignal): Promise<void> => {
    if (faults.size === 0) return;
    for (const fired of faults.decide(method, request)) {
      const effect = fired.effect;
      journal.append({ source: 'csi', kind: 'event', name: 'FaultInjected', subject, request: { method, rule: fired.rule, effect } });
      switch (effect.type) {
        case 'error': {
          const code = parseCode(effect.code);
          throw new CsiRpcError(code, effect.message ?? `injected fault: ${codeName(code)} (${fired.rule})`);
        }
        case 'delay':
          await clock.sleep(effect.ms, signal);
          break;
        case 'restart':
          setImmediate(() => void restart({ keepState: effect.keepState, downMs: effect.downMs ?? 0 }));
          await hang(signal);
          break;
        case 'hang':
          await hang(signal);
      }
    }
  };

  const byVolume = (req: { volumeId: string }): string => `volume ${req.volumeId}`;
  const d = (): FakeCsiDriver => driver;
  const identity: csi.IdentityHandlers = {
    GetPluginInfo: unary('GetPluginInfo', () => d().getPluginInfo()),
    GetPluginCapabilities: unary('GetPluginCapabilities', () => d().getPluginCapabilities()),
    Probe: unary('Probe', () => d().probe()),
  };
  const node: Partial<csi.NodeHandlers> = {
    NodeStageVolume: unary('NodeStageVolume', (r: csi.NodeStageVolumeRequest__Output) => d().nodeStageVolume(r), byVolume),
    NodeUnstageVolume: unary('NodeUnstageVolume', (r: csi.NodeUnstageVolumeRequest__Output) => d().nodeUnstageVolume(r), byVolume),
    NodePublishVolume: unary('NodePublishVolume', (r: csi.NodePublishVolumeRequest__Output) => d().nodePublishVolume(r), byVolume),
    NodeUnpublishVolume: unary('NodeUnpublishVolume', (r: csi.NodeUnpublishVolumeRequest__Output) => d().nodeUnpublishVolume(r), byVolume),
    NodeGetVolumeStats: unary('NodeGetVolumeStats', (r: csi.NodeGetVolumeStatsRequest__Output) => d().nodeGetVolumeStats(r)),
    NodeGetCapabilities: unary('NodeGetCapabilities', () => d().nodeGetCapabilities()),
    NodeGetInfo: unary('NodeGetInfo', () => d().nodeGetInfo()),
  };
  const controller: Partial<csi.ControllerHandlers> = {
    CreateVolume: unary('CreateVolume', (r: csi.CreateVolumeRequest__Output) => d().createVolume(r), (r) => `name ${r.name}`),
    DeleteVolume: unary('DeleteVolume', (r: csi.DeleteVolumeRequest__Output) => d().deleteVolume(r), byVolume),
    ControllerPublishVolume: unary('ControllerPublishVolume', (r: csi.ControllerPublishVolumeRequest__Output) => d().controllerPublishVolume(r), byVolume),
    ControllerUnpublishVolume: unary(
      'ControllerUnpublishVolume',
      (r: csi.ControllerUnpublishVolumeRequest__Output) => d().controllerUnpublishVolume(r),
      byVolume,
    ),
    ValidateVolumeCapabilities: unary('ValidateVolumeCapabilities', (r: csi.ValidateVolumeCapabilitiesRequest__Output) =>
      d().validateVolumeCapabilities(r),
    ),
    ListVolumes: unary('ListVolumes', (r: csi.ListVolumesRequest__Output) => d().listVolumes(r)),
    GetCapacity: unary('GetCapacity', () => d().getCapacity()),
    ControllerGetCapabilities: unary('ControllerGetCapabilities', () => d().controllerGetCapabilities()),
  };

  const proto = loadCsiProto();
  const endpoint = `unix://${options.socketPath}`;
  const listen = async (): Promise<void> => {
    const s = new grpc.Server();
    s.addService(proto.Identity.service, identity);
    // Methods without a handler (expansion, snapshots, ...) answer UNIMPLEMENTED, as the spec allows.
    s.addService(proto.Node.service, node as grpc.UntypedServiceImplementation);
    if (driver.capabilities.plugin.includes('CONTROLLER_SERVICE')) {
      s.addService(proto.Controller.service, controller as grpc.UntypedServiceImplementation);
    }
    // Our own listener (mode 0600): it lets old grpc-go clients, which send the socket path as
    // :authority, through Node's HTTP/2 checks (fakes/grpc/h2-authority).
    listener = await listenGrpcUnix(s, options.socketPath);
    server = s;
  };
  const shutdown = async (): Promise<void> => {
    const s = server;
    server = undefined;
    listener?.close();
    listener = undefined;
    for (const w of waiting) w.abort(new CsiRpcError(grpc.status.UNAVAILABLE, 'fake CSI driver went away'));
    if (s) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          s.forceShutdown();
          resolve();
        }, 2000);
        s.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
    await rm(options.socketPath, { force: true });
  };
  const restart = (opts: { keepState?: boolean; downMs?: number } = {}): Promise<void> => {
    restarting ??= (async () => {
      journal.append({ source: 'csi', kind: 'event', name: 'PluginRestarting', subject: {}, request: { keepState: opts.keepState ?? true, downMs: opts.downMs ?? 0 } });
      await shutdown();
      if (!(opts.keepState ?? true)) driver = new FakeCsiDriver(options);
      if (opts.downMs) await clock.sleep(opts.downMs);
      await listen();
      journal.append({ source: 'csi', kind: 'event', name: 'PluginRestarted', subject: {} });
    })().finally(() => {
      restarting = undefined;
    });
    return restarting;
  };

  await listen();
  return {
    socketPath: options.socketPath,
    endpoint,
    get driver() {
      return driver;
    },
    faults,
    restart,
    async stop() {
      await restarting;
      await shutdown();
    },
  };
}

function hang(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
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
