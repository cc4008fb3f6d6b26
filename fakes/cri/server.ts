import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../../agent/clock/clock.js';
import { realClock } from '../../agent/clock/real-clock.js';
import { loadCriProto } from '../../agent/runtime/proto.js';
import { listenGrpcUnix, type GrpcUnixListener } from '../grpc/unix-listener.js';
import { Journal } from '../journal/journal.js';
import { cniSandboxNetwork, type CniSandboxNetworkOptions } from './cni-network.js';
import { Code, codeName, CriError, parseCode } from './errors.js';
import { FaultInjector, type FaultEffect, type FaultRule } from './faults.js';
import { FakeRuntime, type FakeRuntimeOptions } from './runtime.js';
import { startStreamingServer, type StreamingServer } from './streaming-server.js';

export interface StartFakeCriOptions extends Partial<Omit<FakeRuntimeOptions, 'clock' | 'journal' | 'podNetwork'>> {
  /** Where to listen; default a fresh private directory under the OS temp dir. */
  readonly socketPath?: string;
  readonly journal?: Journal;
  readonly clock?: Clock;
  readonly faults?: readonly FaultRule[];
  /** Seed for probabilistic fault rules. */
  readonly faultSeed?: number;
  /** Record request/response bodies in the journal (default true; off makes benches cheaper). */
  readonly journalBodies?: boolean;
  /**
   * Pod networks through the project's CNI plugin run in-process (ADD/DEL journaled as source 'cni'),
   * as containerd runs its CNI chain. Default on; false gives pods a loopback address with no CNI call.
   */
  readonly cniNetwork?: boolean | Omit<CniSandboxNetworkOptions, 'journal' | 'clock'>;
}

export interface FakeCri {
  /** `unix:///.../cri.sock`, for both RuntimeService and ImageService. */
  readonly endpoint: string;
  readonly socketPath: string;
  readonly journal: Journal;
  readonly clock: Clock;
  /** The state model: sandboxes, containers, images, conditions, and test accessors. */
  readonly runtime: FakeRuntime;
  readonly faults: FaultInjector;
  /** Closes the socket and listens again after downMs; keepState false forgets everything. */
  restart(options?: { keepState?: boolean; downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

type UnaryHandler = (request: never) => unknown;

/** The RPCs and their implementations. Methods not listed answer UNIMPLEMENTED, as containerd 1.6 does for them. */
function implementations(rt: FakeRuntime, streaming: StreamingServer): Record<string, UnaryHandler> {
  return {
    Version: () => rt.version(),
    Status: (r) => rt.status(r),
    RuntimeConfig: () => rt.runtimeConfig(),
    UpdateRuntimeConfig: (r) => rt.updateRuntimeConfig(r),
    RunPodSandbox: (r) => rt.runPodSandboxAsync(r),
    StopPodSandbox: (r) => rt.stopPodSandbox(r),
    RemovePodSandbox: (r) => rt.removePodSandbox(r),
    PodSandboxStatus: (r) => rt.podSandboxStatus(r),
    ListPodSandbox: (r) => rt.listPodSandbox(r),
    CreateContainer: (r) => rt.createContainer(r),
    StartContainer: (r) => rt.startContainer(r),
    StopContainer: (r) => rt.stopContainer(r),
    RemoveContainer: (r) => rt.removeContainer(r),
    ListContainers: (r) => rt.listContainers(r),
    ContainerStatus: (r) => rt.containerStatus(r),
    UpdateContainerResources: (r) => rt.updateContainerResources(r),
    ReopenContainerLog: (r) => rt.reopenContainerLog(r),
    ExecSync: (r) => rt.execSync(r),
    Exec: (r) => rt.exec(r, streaming),
    Attach: (r) => rt.attach(r, streaming),
    PortForward: (r) => rt.portForward(r, streaming),
    ContainerStats: (r) => rt.containerStatsOf(r),
    ListContainerStats: (r) => rt.listContainerStats(r),
    PodSandboxStats: (r) => rt.podSandboxStats(r),
    ListPodSandboxStats: (r) => rt.listPodSandboxStats(r),
    PullImage: (r) => rt.pullImage(r),
    ImageStatus: (r) => rt.imageStatus(r),
    ListImages: (r) => rt.listImages(r),
    RemoveImage: (r) => rt.removeImage(r),
    ImageFsInfo: () => rt.imageFsInfo(),
  };
}

/**
 * Starts the fake CRI runtime: RuntimeService and ImageService on one unix socket (mode 0600), every
 * RPC journaled (source 'cri', kind 'rpc', after it completes) and subject to the fault rules.
 */
export async function startFakeCri(options: StartFakeCriOptions = {}): Promise<FakeCri> {
  const clock = options.clock ?? realClock;
  const journal = options.journal ?? new Journal(clock);
  let ownDir: string | null = null;
  let socketPath = options.socketPath;
  if (!socketPath) {
    ownDir = mkdtempSync(join(tmpdir(), 'fake-cri-'));
    socketPath = join(ownDir, 'cri.sock');
    removeAtExit(ownDir);
  }
  const cni = options.cniNetwork ?? true;
  const podNetwork = cni === false ? undefined : cniSandboxNetwork({ ...(cni === true ? {} : cni), journal, clock });
  const runtime = new FakeRuntime({ ...options, clock, journal, ...(podNetwork ? { podNetwork } : {}) });
  const faults = new FaultInjector(options.faults ?? [], options.faultSeed ?? 1);
  const bodies = options.journalBodies ?? true;
  const proto = loadCriProto();
  // Exec's URLs point here (loopback, a free port), as containerd's stream_server_address does.
  const streaming = await startStreamingServer({
    clock,
    journal,
    run: (request, streams) => runtime.runStreamingExec(request, streams),
    attach: (request, streams) => runtime.runAttach(request, streams),
    dialPort: (podSandboxId, port) => runtime.dialPort(podSandboxId, port),
  });
  const impl = implementations(runtime, streaming);
  let server: grpc.Server | null = null;
  let listener: GrpcUnixListener | null = null;
  let closed = false;
  let restarting: Promise<void> | null = null;
  const pendingHangs = new Set<() => void>();

  const subjectOf = (request: unknown, response: unknown): Record<string, string> => {
    const subject: Record<string, string> = {};
    const req = (request ?? {}) as Record<string, unknown>;
    const res = (response ?? {}) as Record<string, unknown>;
    const sandboxId = req.podSandboxId ?? res.podSandboxId;
    const containerId = req.containerId ?? res.containerId;
    if (typeof sandboxId === 'string' && sandboxId) subject.podSandboxId = sandboxId;
    if (typeof containerId === 'string' && containerId) subject.containerId = containerId;
    return subject;
  };

  // One object literal per case (no spreads of temporaries): every RPC passes here.
  const record = (method: string, request: unknown, response: unknown, error: { code: number; message: string } | null): void => {
    const subject = subjectOf(request, response);
    if (error) {
      const failure = { code: codeName(error.code), message: error.message };
      journal.append(bodies ? { source: 'cri', kind: 'rpc', name: method, subject, request, error: failure } : { source: 'cri', kind: 'rpc', name: method, subject, error: failure });
    } else {
      journal.append(bodies ? { source: 'cri', kind: 'rpc', name: method, subject, request, response } : { source: 'cri', kind: 'rpc', name: method, subject });
    }
  };

  const restart = async (opts: { keepState?: boolean; downMs?: number } = {}): Promise<void> => {
    if (restarting) return restarting;
    restarting = (async () => {
      journal.append({ source: 'cri', kind: 'event', name: 'RuntimeRestarting', subject: {}, request: { keepState: opts.keepState ?? true, downMs: opts.downMs ?? 0 } });
      const old = server;
      server = null;
      if (listener) crash(listener);
      listener = null;
      if (old) setImmediate(() => old.forceShutdown());
      for (const release of [...pendingHangs]) release();
      removeSocket(socketPath);
      if (!(opts.keepState ?? true)) runtime.reset();
      if ((opts.downMs ?? 0) > 0) await clock.sleep(opts.downMs ?? 0);
      if (!closed) await listen();
      journal.append({ source: 'cri', kind: 'event', name: 'RuntimeRestarted', subject: {} });
    })().finally(() => (restarting = null));
    return restarting;
  };

  const applyFaults = async (
    method: string,
    request: unknown,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ): Promise<{ code: number; message: string } | 'hang' | null> => {
    if (faults.size === 0) return null;
    for (const fired of faults.decide(method, request)) {
      const effect: FaultEffect = fired.effect;
      journal.append({ source: 'cri', kind: 'event', name: 'FaultInjected', subject: subjectOf(request, null), request: { method, rule: fired.rule, effect } });
      switch (effect.type) {
        case 'error':
          return { code: parseCode(effect.code), message: effect.message ?? `injected fault: ${codeName(parseCode(effect.code))} (${fired.rule})` };
        case 'delay':
          await clock.sleep(effect.ms);
          break;
        case 'hang':
          return 'hang';
        case 'restart':
          setImmediate(() => void restart({ keepState: effect.keepState, downMs: effect.downMs ?? 0 }));
          return 'hang';
      }
      if (call.cancelled) return { code: Code.CANCELLED, message: 'call cancelled by the client' };
    }
    return null;
  };

  const unary = (method: string) => {
    const fn = impl[method];
    return (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): void => {
      const request = call.request;
      // The answer is queued first and the journal entry appended right after, in the same synchronous
      // step: no other call can be journaled in between. (Node's HTTP/2 writes what was queued at the end
      // of the event-loop turn, so whatever else this turn does delays the answer: keep it short.)
      const answer = (response: unknown): void => {
        callback(null, response);
        record(method, request, response, null);
      };
      const fail = (err: unknown): void => {
        const status = toStatus(err);
        if (!call.cancelled) callback({ code: status.code, details: status.message });
        record(method, request, null, status);
      };
      if (fn && faults.size === 0) {
        // The hot path: no fault can apply, so the call runs at once, and a synchronous handler answers
        // in the same step (no promise hops between the request and the response).
        let result: unknown;
        try {
          result = fn(request as never);
        } catch (err) {
          fail(err);
          return;
        }
        if (result instanceof Promise) result.then(answer, fail);
        else answer(result);
        return;
      }
      const run = async (): Promise<unknown> => {
        const fault = await applyFaults(method, request, call);
        if (fault === 'hang') {
          // Answer nothing; the client's deadline (or a restart) ends the call.
          await new Promise<void>((resolve) => {
            pendingHangs.add(resolve);
            call.on('cancelled', resolve);
          });
          throw new CriError(Code.CANCELLED, 'call abandoned');
        }
        if (fault) throw new CriError(fault.code as never, fault.message);
        if (!fn) throw new CriError(Code.UNIMPLEMENTED, `fake-cri does not implement ${method}`);
        return fn(request as never);
      };
      run().then(answer, fail);
    };
  };

  const serverStreaming = (method: string) => (call: grpc.ServerWritableStream<unknown, unknown>): void => {
    const status = { code: Code.UNIMPLEMENTED, message: `fake-cri does not implement ${method}` };
    record(method, call.request, null, status);
    call.emit('error', { code: status.code, details: status.message });
  };

  const handlersFor = (service: grpc.ServiceDefinition): grpc.UntypedServiceImplementation => {
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const [name, def] of Object.entries(service)) {
      handlers[name] = (def.responseStream ? serverStreaming(name) : unary(name)) as grpc.UntypedHandleCall;
    }
    return handlers;
  };

  const listen = async (): Promise<void> => {
    const s = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024 });
    s.addService(proto.RuntimeService.service, handlersFor(proto.RuntimeService.service));
    s.addService(proto.ImageService.service, handlersFor(proto.ImageService.service));
    // Our own listener (mode 0600) rather than bindAsync: it lets clients that send the socket path as
    // :authority (crictl and kubelets before 1.31) through Node's HTTP/2 checks (fakes/grpc/h2-authority).
    listener = await listenGrpcUnix(s, socketPath);
    server = s;
  };

  await listen();

  return {
    endpoint: `unix://${socketPath}`,
    socketPath,
    journal,
    clock,
    runtime,
    faults,
    restart,
    close: async () => {
      if (closed) return;
      closed = true;
      await restarting;
      const s = server;
      server = null;
      listener?.close();
      listener = null;
      for (const release of [...pendingHangs]) release();
      if (s) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            s.forceShutdown();
            resolve();
          }, 2_000);
          s.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      runtime.reset();
      await streaming.close();
      podNetwork?.close();
      removeSocket(socketPath);
      if (ownDir) {
        rmSync(ownDir, { recursive: true, force: true });
        pendingDirs.delete(ownDir);
      }
    },
  };
}

/**
 * Closes the socket and drops every connection the way a dying process does (clients see UNAVAILABLE,
 * not CANCELLED); the caller then shuts the gRPC server down.
 */
function crash(listener: GrpcUnixListener): void {
  listener.close();
  listener.destroyConnections();
}

/** Private socket directories of fakes not closed yet; removed when the process exits (one listener for all). */
const pendingDirs = new Set<string>();
let exitHookInstalled = false;

function removeAtExit(dir: string): void {
  pendingDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const d of pendingDirs) rmSync(d, { recursive: true, force: true });
  });
}

function toStatus(err: unknown): { code: number; message: string } {
  if (err instanceof CriError) return { code: err.code, message: err.message };
  // A bug in the fake must still answer (and be visible), never crash the server.
  const message = err instanceof Error ? `fake-cri internal error: ${err.message}` : `fake-cri internal error: ${String(err)}`;
  return { code: Code.INTERNAL, message };
}

function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* absent */
  }
}
