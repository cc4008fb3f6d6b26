/**
 * Building blocks of the kubelet-level specs: the reference kubelet started against the target's CRI
 * endpoint, a mock API server of its own, and the agent's journal of every CRI call it made (so the
 * ordering specs hold on runtimes without a journal of their own).
 */
import assert from 'node:assert/strict';
import type { CoreV1Api, V1Container, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import { join } from 'node:path';
import { kubeClientsFromString } from '../../agent/api/kube-client.js';
import type { CgroupManager } from '../../agent/cm/cgroup-manager.js';
import { createStandInCgroupRoot } from '../../agent/cm/stand-in-root.js';
import { loadKubeletConfig } from '../../agent/config/load.js';
import type { KubeletConfiguration } from '../../agent/config/types.js';
import { journalingCriClient } from '../../agent/kuberuntime/journaling-cri.js';
import { POD_UID_LABEL } from '../../agent/kuberuntime/labels.js';
import { Kubelet, type KubeletOptions } from '../../agent/kubelet.js';
import { fakeMachine } from '../../agent/nodestatus/machine.js';
import { createCriClient } from '../../agent/runtime/cri-client.js';
import { bindPodsToNode } from '../../agent/embedded-binder.js';
import { startMockApiServer, type MockApiServer } from '../../fakes/apiserver/server.js';
import { startFakeCsi } from '../../fakes/csi/server.js';
import { FAKE_CSI_DRIVER } from '../../agent/embedded-node.js';
import { Journal, type JournalEntry } from '../../fakes/journal/journal.js';
import { eventually } from '../cri/support.js';
import type { SpecContext } from '../framework/spec.js';

export const SPEC_NODE = 'conformance-node';

export { FAKE_CSI_DRIVER };

export interface AgentUnderTest {
  readonly api: MockApiServer;
  readonly kubelet: Kubelet;
  readonly core: CoreV1Api;
  /** The target's journal when it has one, else one made for this spec; the agent writes source 'agent'. */
  readonly journal: Journal;
  /** Journal entries up to this sequence number belong to earlier specs (a target's journal is shared). */
  readonly since: number;
  readonly namespace: string;
}

/**
 * A named endpoint may be a node's runtime holding its own kubelet's pods: there the agent cleans up only
 * the unknown pods specs make (namespace default, names kh-…), never the node's.
 */
export function specOrphanScope(ctx: SpecContext): { orphanScope?: (pod: { name: string; namespace: string }) => boolean } {
  return ctx.target.kind === 'endpoint' ? { orphanScope: (pod) => pod.namespace === 'default' && pod.name.startsWith('kh-') } : {};
}

/**
 * Starts a mock API server and the reference kubelet on the target's runtime; both stop after the spec.
 * Pod cgroups: on the fakes in a stand-in tree under the spec's tmpDir; on a real runtime the agent
 * decides as it would on a node (the host's /sys/fs/cgroup as root with cgroupfs) but as a guest: a
 * kubepods tree it finds (another run's, or a node kubelet's) keeps its settings, and the tree is removed
 * afterwards only if this agent made it.
 */
export async function startAgent(
  ctx: SpecContext,
  overrides: Partial<KubeletConfiguration> = {},
  /** Kubelet options beyond the spec defaults, e.g. serveKubeletServer. */
  agentOptions: Pick<KubeletOptions, 'serveKubeletServer'> = {},
): Promise<AgentUnderTest> {
  const clock = ctx.target.clock;
  const journal = ctx.journal ?? new Journal(clock);
  const since = journal.size;
  const api = await startMockApiServer({ clock, journal });
  ctx.onCleanup(() => api.close());
  const loaded = loadKubeletConfig({});
  if (loaded.errors.length > 0) throw new Error(loaded.errors.join('\n'));
  // A fake CSI driver for the agent's volume manager, journaling into the same journal (source 'csi').
  const csi = await startFakeCsi({ socketPath: join(ctx.tmpDir, 'csi.sock'), journal, clock });
  ctx.onCleanup(() => csi.stop());
  const cri = journalingCriClient(
    createCriClient({ runtimeEndpoint: ctx.target.runtimeEndpoint, imageEndpoint: ctx.target.imageEndpoint, clock }),
    journal,
  );
  const kubelet = new Kubelet({
    config: {
      ...loaded.config,
      podLogsDir: join(ctx.tmpDir, 'pod-logs'),
      resolvConf: '',
      syncFrequency: 60_000,
      ...overrides,
    },
    nodeName: SPEC_NODE,
    rootDir: ctx.tmpDir,
    clock,
    cri,
    kubeClients: kubeClientsFromString(api.kubeconfig()),
    machine: fakeMachine({ hostname: SPEC_NODE }),
    csiDrivers: [{ name: FAKE_CSI_DRIVER, endpoint: csi.endpoint }],
    ...specOrphanScope(ctx),
    ...agentOptions,
    log: (m) => ctx.log(`agent: ${m}`),
    ...(ctx.target.kind === 'fake' ? { cgroupfsRoot: createStandInCgroupRoot(join(ctx.tmpDir, 'cgroupfs')) } : { sharedCgroupHost: true }),
  });
  ctx.onCleanup(async () => {
    await kubelet.stop();
    await removeLeftovers(ctx, cri);
    cri.close();
    // Pod cgroups of pods a failed spec left behind (this agent's only), then the tree if it made it.
    const cgroups = kubelet.podCgroups;
    await cgroups
      ?.cleanupOrphanedPodCgroups(() => new Set())
      .then(() => cgroups.removeQosCgroupsIfCreated())
      .catch((e: unknown) => ctx.log(`cleanup of kubepods: ${(e as Error).message}`));
  });
  await kubelet.start();
  await kubelet.podSourceSynced();
  const unbind = bindPodsToNode(api, SPEC_NODE);
  ctx.onCleanup(unbind);
  return { api, kubelet, core: kubeClientsFromString(api.kubeconfig()).core, journal, since, namespace: 'default' };
}

/** Removes sandboxes the agent created for this spec's pods if a spec failed half-way. */
async function removeLeftovers(ctx: SpecContext, cri: ReturnType<typeof createCriClient>): Promise<void> {
  const { items } = await cri.listPodSandbox({});
  for (const sb of items) {
    if (!sb.labels?.[POD_UID_LABEL] || sb.metadata?.namespace !== 'default' || !sb.metadata.name.startsWith('kh-')) continue;
    try {
      await cri.stopPodSandbox({ podSandboxId: sb.id });
      await cri.removePodSandbox({ podSandboxId: sb.id });
    } catch (e) {
      ctx.log(`cleanup of sandbox ${sb.id}: ${(e as Error).message}`);
    }
  }
}

export function shellContainer(name: string, image: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', script], ...extra };
}

export async function createPod(agent: AgentUnderTest, pod: V1Pod): Promise<V1Pod> {
  return agent.core.createNamespacedPod({ namespace: agent.namespace, body: pod });
}

export async function waitForPod(
  ctx: SpecContext,
  agent: AgentUnderTest,
  name: string,
  what: string,
  predicate: (pod: V1Pod) => boolean,
  timeoutMs = 30_000,
): Promise<V1Pod> {
  return eventually(
    ctx,
    `pod ${name}: ${what}`,
    async () => {
      const pod = await agent.core.readNamespacedPod({ name, namespace: agent.namespace });
      return predicate(pod) ? pod : undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * An agent that manages pod cgroups (the spec fails saying so when it does not) running one pod whose
 * container `app` sleeps with `resources`: where the pod cgroup and resize specs start. `id` is the
 * container's runtime ID.
 */
export async function runningPodWithCgroups(
  ctx: SpecContext,
  namePrefix: string,
  resources: V1ResourceRequirements,
  overrides: Partial<KubeletConfiguration> = {},
): Promise<{ agent: AgentUnderTest; cgroups: CgroupManager; name: string; running: V1Pod; id: string }> {
  const agent = await startAgent(ctx, overrides);
  const cgroups = agent.kubelet.podCgroups?.cgroups;
  assert.ok(cgroups, 'the agent manages pod cgroups on this target (see its log for why not)');
  const name = ctx.uniqueName(namePrefix);
  await createPod(agent, {
    metadata: { name },
    spec: { containers: [shellContainer('app', ctx.target.images.busybox, 'sleep 3600', { resources })], terminationGracePeriodSeconds: 1 },
  });
  const running = await waitForPod(ctx, agent, name, 'Running', (p) => p.status?.containerStatuses?.[0]?.state?.running !== undefined);
  return { agent, cgroups, name, running, id: containerIdOf(running) };
}

/** The runtime ID of the pod's first container (its containerID without the runtime:// prefix). */
export function containerIdOf(pod: V1Pod): string {
  return pod.status?.containerStatuses?.[0]?.containerID?.replace(/^[^:]+:\/\//, '') ?? '';
}

export async function waitForPodGone(ctx: SpecContext, agent: AgentUnderTest, name: string, timeoutMs = 60_000): Promise<void> {
  await eventually(
    ctx,
    `pod ${name} to be removed from the API`,
    async () => {
      try {
        await agent.core.readNamespacedPod({ name, namespace: agent.namespace });
        return undefined;
      } catch (e) {
        return (e as { code?: number }).code === 404 ? true : undefined;
      }
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** This spec's agent CRI calls (source 'agent') of one RPC that succeeded, in order. */
export function agentCalls(agent: AgentUnderTest, name: string): JournalEntry[] {
  return agent.journal.entries((e) => e.seq > agent.since && e.source === 'agent' && e.name === name && e.error === undefined);
}

/** This spec's journal entries matching `where`. */
export function specEntries(agent: AgentUnderTest, where: (e: JournalEntry) => boolean): JournalEntry[] {
  return agent.journal.entries((e) => e.seq > agent.since && where(e));
}

/** The container name a CreateContainer entry created, and the id it got. */
export function createdContainer(e: JournalEntry): { name: string; id: string } {
  const req = e.request as { config?: { metadata?: { name?: string } } };
  const res = e.response as { containerId?: string };
  return { name: req.config?.metadata?.name ?? '', id: res.containerId ?? '' };
}

/** The first successful agent call of `rpc` matching `where`, or throw naming it. */
export function firstCall(agent: AgentUnderTest, rpc: string, what: string, where: (e: JournalEntry) => boolean = () => true): JournalEntry {
  const hit = agentCalls(agent, rpc).find(where);
  if (!hit) throw new Error(`expected the agent to call ${rpc} (${what}); it did not`);
  return hit;
}
