/**
 * A throw-away node for one property run: mock API server, fake CRI (with the project's CNI plugin
 * chained in-process), fake CSI and the reference
 * kubelet (with its volume manager and the fake CSI driver registered), all on one virtual clock and
 * writing one journal. Each run gets a fresh node so a failing run cannot leak into the next.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { kubeClientsFromString } from '../../agent/api/kube-client.js';
import { VirtualClock } from '../../agent/clock/virtual-clock.js';
import { loadKubeletConfig } from '../../agent/config/load.js';
import { Kubelet } from '../../agent/kubelet.js';
import { fakeMachine } from '../../agent/nodestatus/machine.js';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { VolumeManager } from '../../agent/volumes/volume-manager.js';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { startFakeCri, type FakeCri } from '../../fakes/cri/index.js';
import type { CniFaultRule } from '../../fakes/cni/types.js';
import type { FaultRule } from '../../fakes/cri/faults.js';
import { startFakeCsi, type FakeCsi } from '../../fakes/csi/server.js';
import { Journal } from '../../fakes/journal/journal.js';
import { CSI_DRIVER } from '../arbitraries/pod-spec.js';

export const NODE_NAME = 'property-node';

export interface LifecycleNode {
  readonly clock: VirtualClock;
  readonly journal: Journal;
  readonly api: MockApiServer;
  readonly cri: FakeCri;
  readonly csi: FakeCsi;
  readonly kubelet: Kubelet;
  readonly core: CoreV1Api;
  readonly rootDir: string;
  /** The pod as the API server stores it now (read in-process, no request in the journal). */
  storedPod(namespace: string, name: string): V1Pod | undefined;
  close(): Promise<void>;
}

export async function startLifecycleNode(
  faults: { cri: readonly FaultRule[]; csi: readonly FaultRule[]; cni: readonly CniFaultRule[] },
  log?: (m: string) => void,
): Promise<LifecycleNode> {
  const clock = new VirtualClock();
  const journal = new Journal(clock);
  const rootDir = mkdtempSync(join(tmpdir(), 'kh-lifecycle-'));
  const closers: Array<() => Promise<void> | void> = [() => rmSync(rootDir, { recursive: true, force: true })];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        // Best effort: the next run starts from scratch anyway.
      }
    }
  };
  try {
    const api = await startMockApiServer({ clock, journal });
    closers.push(() => api.close());
    // The fake sets pod networks up through the project's CNI plugin (journaled as source 'cni').
    const cri = await startFakeCri({ clock, journal, faults: [...faults.cri], cniNetwork: { faults: [...faults.cni] } });
    closers.push(() => cri.close());
    const csi = await startFakeCsi({ socketPath: join(rootDir, 'csi.sock'), journal, clock, faults: [...faults.csi], driverName: CSI_DRIVER, nodeId: NODE_NAME });
    closers.push(() => csi.stop());
    const loaded = loadKubeletConfig({});
    if (loaded.errors.length > 0) throw new Error(loaded.errors.map(String).join('\n'));
    const volumes = new VolumeManager({
      rootDir,
      nodeName: NODE_NAME,
      clock,
      csiDrivers: [{ name: CSI_DRIVER, endpoint: csi.endpoint }],
      objects: {
        getConfigMap: async () => null,
        getSecret: async () => null,
        getPersistentVolumeClaim: async () => null,
        getPersistentVolume: async () => null,
      },
    });
    closers.push(() => volumes.drivers.close());
    const agentCri = recordingCriClient(createCriClient({ runtimeEndpoint: cri.endpoint, clock }), journal);
    closers.push(() => agentCri.close());
    const kubelet = new Kubelet({
      cri: agentCri,
      config: { ...loaded.config, containerRuntimeEndpoint: cri.endpoint, podLogsDir: join(rootDir, 'pod-logs'), resolvConf: '', healthzPort: 0 },
      nodeName: NODE_NAME,
      rootDir,
      clock,
      kubeClients: kubeClientsFromString(api.kubeconfig()),
      machine: fakeMachine({ hostname: NODE_NAME }),
      volumes,
      ...(log ? { log } : {}),
    });
    await kubelet.start();
    closers.push(() => kubelet.stop());
    await kubelet.podSourceSynced();
    return {
      clock,
      journal,
      api,
      cri,
      csi,
      kubelet,
      core: kubeClientsFromString(api.kubeconfig()).core,
      rootDir,
      storedPod: (namespace, name) => api.store.get('pods', namespace, name)?.object as V1Pod | undefined,
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * The agent's CRI client, recording each unary call in the journal (source 'agent') twice: an event
 * `<Rpc>.begin` when it is sent and an rpc entry with the response or error when it returns. The
 * fake journals only completions; the order properties need when each call started as well.
 */
export function recordingCriClient(inner: CriClient, journal: Journal): CriClient {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof prop !== 'string' || prop === 'close') return fn.bind(target);
      const rpc = prop.charAt(0).toUpperCase() + prop.slice(1);
      return (request: Record<string, unknown> = {}, options?: unknown): unknown => {
        const subject = subjectOf(request, undefined);
        journal.append({ source: 'agent', kind: 'event', name: `${rpc}.begin`, subject, request });
        const result = fn.call(target, request, options);
        if (!(result instanceof Promise)) return result; // streams are not used in a pod's life
        return result.then(
          (response: unknown) => {
            journal.append({ source: 'agent', kind: 'rpc', name: rpc, subject: subjectOf(request, response), request, response });
            return response;
          },
          (error: unknown) => {
            const e = error as { kind?: string; message?: string };
            journal.append({ source: 'agent', kind: 'rpc', name: rpc, subject, request, error: { code: e.kind ?? 'Unknown', message: e.message ?? String(error) } });
            throw error;
          },
        );
      };
    },
  });
}

function subjectOf(request: Record<string, unknown>, response: unknown): Record<string, string> {
  const res = (response ?? {}) as Record<string, unknown>;
  const subject: Record<string, string> = {};
  const sandbox = request['podSandboxId'] ?? res['podSandboxId'];
  const container = request['containerId'] ?? res['containerId'];
  if (typeof sandbox === 'string' && sandbox) subject['podSandboxId'] = sandbox;
  if (typeof container === 'string' && container) subject['containerId'] = container;
  const name = (request['config'] as { metadata?: { name?: string } } | undefined)?.metadata?.name;
  if (name) subject['name'] = name;
  return subject;
}

export interface DriveLimits {
  /** Give up after this much virtual time. */
  readonly virtualMs: number;
  /** ... or this much real time. */
  readonly realMs: number;
}

/**
 * Runs the node until `done` returns a value. Virtual time creeps (1 ms per step) while anything
 * happens (the journal grows: calls, events); once nothing was journaled for a few event-loop turns the
 * clock jumps to the next timer. So real I/O (gRPC, HTTP, watches) completes "instantly" and a
 * backoff of minutes costs a handful of iterations.
 */
export async function drive<T>(node: LifecycleNode, what: string, done: () => T | undefined, limits: DriveLimits): Promise<T> {
  const { clock, journal } = node;
  const startVirtual = clock.monotonic();
  const startReal = performance.now();
  let lastSize = journal.size;
  let quiet = 0;
  for (;;) {
    const value = done();
    if (value !== undefined) return value;
    if (clock.monotonic() - startVirtual > limits.virtualMs || performance.now() - startReal > limits.realMs) {
      throw new Error(`timed out waiting for ${what} (after ${Math.round(clock.monotonic() - startVirtual)} ms virtual, ${Math.round(performance.now() - startReal)} ms real)`);
    }
    for (let i = 0; i < 3; i++) await nextTurn();
    const size = journal.size;
    quiet = size === lastSize ? quiet + 1 : 0;
    lastSize = size;
    if (quiet >= QUIET_TURNS) {
      const next = clock.nextDue();
      await clock.advanceTo(next === null ? clock.monotonic() + 100 : Math.max(clock.monotonic(), next));
      quiet = 0;
    } else if (quiet === 0) {
      // Work takes time: without this, every runtime object created in one burst of activity would
      // carry the same timestamp, which no real runtime produces (the kubelet, like upstream, finds
      // a container's latest instance by creation time).
      await clock.advance(1);
    }
  }
}

/** Iterations (of three event-loop turns) without a journal entry before the clock moves. */
const QUIET_TURNS = 3;
