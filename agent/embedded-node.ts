import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from './clock/clock.js';
import { realClock } from './clock/real-clock.js';
import { Journal } from '../fakes/journal/journal.js';
import { startFakeCri, type FakeCri } from '../fakes/cri/index.js';
import { startMockApiServer, type MockApiServer } from '../fakes/apiserver/server.js';
import { startFakeCsi, type FakeCsi } from '../fakes/csi/server.js';
import { kubeClientsFromString } from './api/kube-client.js';
import { loadKubeletConfig } from './config/load.js';
import type { KubeletConfiguration } from './config/types.js';
import { Kubelet } from './kubelet.js';
import { bindPodsToNode } from './embedded-binder.js';
import { fakeMachine, type FakeMachineSpec } from './nodestatus/machine.js';
import { createStandInCgroupRoot } from './cm/stand-in-root.js';
import type { PodVolumeManager } from './podworkers/volumes.js';

/**
 * Mock API server + fake CRI + the agent in one process, sharing one journal and one clock: what
 * `kubelet-harness up` runs, and what kubelet-level specs and benches start.
 */
export interface EmbeddedNodeOptions {
  readonly clock?: Clock;
  readonly journal?: Journal;
  readonly nodeName?: string;
  /** KubeletConfiguration YAML (defaults otherwise). */
  readonly configText?: string;
  /** Config changes applied after loading (tests). */
  readonly configOverrides?: Partial<KubeletConfiguration>;
  readonly machine?: FakeMachineSpec;
  readonly kubeconfigPath?: string;
  /** Port of the mock API server (0 = any free one). */
  readonly apiPort?: number;
  readonly serveHealthz?: boolean;
  /** Serve the kubelet server (/containerLogs, behind the API's pods/log) on a free loopback port; default true. */
  readonly serveKubeletServer?: boolean;
  /** Bind pods created without spec.nodeName to this node (a one-node scheduler); default true. */
  readonly bindPods?: boolean;
  readonly volumes?: PodVolumeManager;
  readonly evictionMonitoringIntervalMs?: number;
  /** Start the fake CSI driver and register it as FAKE_CSI_DRIVER (default true). */
  readonly csi?: boolean;
  readonly log?: (msg: string) => void;
}

/** Name under which the embedded node registers its fake CSI driver. */
export const FAKE_CSI_DRIVER = 'csi.kubelet-harness.dev';

export interface EmbeddedNode {
  readonly api: MockApiServer;
  readonly cri: FakeCri;
  /** The fake CSI driver registered with the agent (null when `csi: false`). */
  readonly csi: FakeCsi | null;
  readonly kubelet: Kubelet;
  readonly journal: Journal;
  readonly rootDir: string;
  close(): Promise<void>;
}

export async function startEmbeddedNode(options: EmbeddedNodeOptions = {}): Promise<EmbeddedNode> {
  const clock = options.clock ?? realClock;
  const journal = options.journal ?? new Journal(clock);
  const nodeName = options.nodeName ?? 'harness-node';
  const rootDir = mkdtempSync(join(tmpdir(), 'kubelet-harness-'));
  const loaded = loadKubeletConfig(options.configText !== undefined ? { fileText: options.configText } : {});
  if (loaded.errors.length > 0) throw new Error(`invalid KubeletConfiguration:\n${loaded.errors.join('\n')}`);
  const config: KubeletConfiguration = {
    ...loaded.config,
    podLogsDir: join(rootDir, 'pods-logs'),
    healthzPort: 0,
    port: 0,
    resolvConf: '',
    ...(options.configOverrides ?? {}),
  };
  const api = await startMockApiServer({
    clock,
    journal,
    ...(options.apiPort !== undefined ? { port: options.apiPort } : {}),
    ...(options.kubeconfigPath ? { kubeconfigPath: options.kubeconfigPath } : {}),
  });
  const cri = await startFakeCri({ clock, journal });
  const csi = options.csi === false ? null : await startFakeCsi({ socketPath: join(rootDir, 'csi.sock'), journal, clock });
  const kubelet = new Kubelet({
    config: { ...config, containerRuntimeEndpoint: cri.endpoint },
    nodeName,
    rootDir,
    clock,
    kubeClients: kubeClientsFromString(api.kubeconfig()),
    machine: fakeMachine({ hostname: nodeName, ...(options.machine ?? {}) }),
    // The fake runtime makes no cgroups: pod cgroups go to a stand-in tree, so the same code runs here.
    cgroupfsRoot: createStandInCgroupRoot(join(rootDir, 'cgroupfs')),
    ...(options.serveHealthz !== undefined ? { serveHealthz: options.serveHealthz } : {}),
    serveKubeletServer: options.serveKubeletServer ?? true,
    ...(options.volumes ? { volumes: options.volumes } : {}),
    ...(csi ? { csiDrivers: [{ name: FAKE_CSI_DRIVER, endpoint: `unix://${csi.socketPath}` }] } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.evictionMonitoringIntervalMs !== undefined ? { evictionMonitoringIntervalMs: options.evictionMonitoringIntervalMs } : {}),
  });
  await kubelet.start();
  await kubelet.podSourceSynced();
  const unbind = options.bindPods === false ? () => undefined : bindPodsToNode(api, nodeName);
  return {
    api,
    cri,
    csi,
    kubelet,
    journal,
    rootDir,
    close: async () => {
      unbind();
      await kubelet.stop();
      await cri.close();
      await csi?.stop();
      await api.close();
      rmSync(rootDir, { recursive: true, force: true });
    },
  };
}
