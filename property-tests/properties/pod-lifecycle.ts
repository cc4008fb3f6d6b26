/**
 * One property run: a generated pod goes through the reference kubelet on fresh fakes (virtual
 * clock), is observed until its status settles, deleted, and checked for
 * (a) the kubelet order on the journal (pod-lifecycle-order.ts),
 * (b) leaks after the pod object is gone: no sandbox, container, CSI publication or staging, no pod
 *     volume directory, no pod worker,
 * (c) the settled status before deletion against the independent model (pod-lifecycle-model.ts),
 *     which must also stay put for another 30 s of clock time.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { podVolumesDir } from '../../agent/volumes/paths.js';
import { buildPod, cniFaultRules, faultRules, type LifecycleCase } from '../arbitraries/pod-spec.js';
import { expectedStatus, observedStatus, statusDifferences } from './pod-lifecycle-model.js';
import { NODE_NAME, drive, startLifecycleNode, type LifecycleNode } from './pod-lifecycle-node.js';
import { orderViolations } from './pod-lifecycle-order.js';

export const NAMESPACE = 'default';
export const POD_NAME = 'lifecycle';

/**
 * Clock time the status may take to settle: hung calls end at the agent's deadlines (30 s, or 5 min
 * for a pull) and backoffs follow.
 */
const SETTLE_VIRTUAL_MS = 30 * 60_000;
const STABLE_VIRTUAL_MS = 10_000;
const DELETE_VIRTUAL_MS = 5 * 60_000;
// A safety net against a wedged run, not a timing assertion: generous for a loaded 2-core machine.
const REAL_LIMIT_MS = 90_000;
/** Two ContainerGCPeriods and a bit. */
const GC_VIRTUAL_MS = 150_000;

export interface LifecycleOutcome {
  /** Empty when the run held every property. */
  readonly failures: readonly string[];
  readonly phase: string;
  readonly journalSize: number;
  readonly virtualMs: number;
}

async function driveFor(node: LifecycleNode, ms: number): Promise<void> {
  const until = node.clock.monotonic() + ms;
  await drive(node, `${ms} ms of clock time`, () => (node.clock.monotonic() >= until ? true : undefined), { virtualMs: ms + 1_000, realMs: REAL_LIMIT_MS });
}

function leaks(node: LifecycleNode, uid: string): string[] {
  const found: string[] = [];
  const sandboxes = node.cri.runtime.listPodSandbox({} as never).items ?? [];
  if (sandboxes.length > 0) found.push(`sandboxes left in the runtime: ${sandboxes.map((s) => `${(s.id ?? '').slice(0, 12)} (${s.state})`).join(', ')}`);
  const containers = node.cri.runtime.listContainers({} as never).containers ?? [];
  if (containers.length > 0) found.push(`containers left in the runtime: ${containers.map((c) => `${c.metadata?.name} ${(c.id ?? '').slice(0, 12)} (${c.state})`).join(', ')}`);
  const csi = node.csi.driver.snapshot();
  if (csi.published.length > 0) found.push(`CSI publications left: ${csi.published.map((p) => p.targetPath).join(', ')}`);
  if (csi.staged.length > 0) found.push(`CSI stagings left: ${csi.staged.map((p) => p.stagingTargetPath).join(', ')}`);
  const attached = new Set<string>();
  for (const e of node.journal.entries((x) => x.source === 'cni' && x.kind === 'rpc' && x.error === undefined)) {
    const id = e.subject['containerId'] ?? '';
    if (e.name === 'ADD') attached.add(id);
    if (e.name === 'DEL') attached.delete(id);
  }
  if (attached.size > 0) found.push(`CNI attachments never deleted: ${[...attached].map((id) => id.slice(0, 12)).join(', ')}`);
  const volumesDir = podVolumesDir(node.rootDir, uid);
  if (existsSync(volumesDir)) {
    const left = readdirSync(volumesDir, { recursive: true });
    if (left.length > 0) found.push(`pod volume directories left under ${volumesDir}: ${left.join(', ')}`);
  }
  return found;
}

/** Distinct errors the agent's calls got and the events it recorded, to make a failure readable. */
function context(node: LifecycleNode): string[] {
  const errors = new Set<string>();
  for (const e of node.journal.entries((x) => x.error !== undefined && x.source !== 'apiserver')) errors.add(`${e.source} ${e.name}: ${e.error?.message}`);
  const events = new Set(node.kubelet.events.events.map((e) => `${e.reason}: ${e.message}`));
  return [...[...errors].slice(0, 8), ...[...events].slice(-12)];
}

export async function runLifecycleCase(c: LifecycleCase, log?: (m: string) => void): Promise<LifecycleOutcome> {
  const node = await startLifecycleNode({ cri: faultRules(c.faults.cri), csi: faultRules(c.faults.csi), cni: cniFaultRules(c.faults.cni) }, log);
  const failures: string[] = [];
  let phase = '(none)';
  try {
    const created = await node.core.createNamespacedPod({ namespace: NAMESPACE, body: buildPod(POD_NAME, NAMESPACE, NODE_NAME, c.scenario) });
    const uid = created.metadata?.uid ?? '';
    const expected = expectedStatus(c.scenario);
    const stored = (): V1Pod | undefined => node.storedPod(NAMESPACE, POD_NAME);
    let lastDiffs: string[] = [];
    try {
      await drive(
        node,
        `the status to settle at ${JSON.stringify(expected)}`,
        () => {
          const pod = stored();
          if (!pod) return undefined;
          lastDiffs = statusDifferences(expected, observedStatus(pod, c.scenario), pod);
          return lastDiffs.length === 0 ? true : undefined;
        },
        { virtualMs: SETTLE_VIRTUAL_MS, realMs: REAL_LIMIT_MS },
      );
    } catch (e) {
      failures.push(`(c) status never matched the model: ${(e as Error).message}; last differences: ${lastDiffs.join('; ')}`);
    }
    if (failures.length === 0) {
      await driveFor(node, STABLE_VIRTUAL_MS);
      const pod = stored();
      const diffs = pod ? statusDifferences(expected, observedStatus(pod, c.scenario), pod) : ['the pod object disappeared'];
      if (diffs.length > 0) failures.push(`(c) status did not stay settled for ${STABLE_VIRTUAL_MS / 1000} s: ${diffs.join('; ')}`);
    }
    phase = stored()?.status?.phase ?? '(none)';
    const terminalBeforeDeletion = phase === 'Succeeded' || phase === 'Failed';

    await node.core.deleteNamespacedPod({ name: POD_NAME, namespace: NAMESPACE });
    try {
      await drive(node, 'the pod object to be removed', () => (stored() === undefined ? true : undefined), { virtualMs: DELETE_VIRTUAL_MS, realMs: REAL_LIMIT_MS });
      if (!terminalBeforeDeletion) {
        // The kubelet removes a running pod's object last: everything must be gone already.
        for (const leak of leaks(node, uid)) failures.push(`(b) when the pod object was removed: ${leak}`);
      } else {
        // The API server removes a terminal pod's object at once; the kubelet's garbage collection
        // (every ContainerGCPeriod, 1 min) removes the sandbox and containers of a deleted pod.
        try {
          await drive(node, 'the deleted pod\'s runtime objects to be garbage collected', () => (leaks(node, uid).length === 0 ? true : undefined), {
            virtualMs: GC_VIRTUAL_MS,
            realMs: REAL_LIMIT_MS,
          });
        } catch (e) {
          for (const leak of leaks(node, uid)) failures.push(`(b) ${GC_VIRTUAL_MS / 1000} s after the terminal pod was deleted: ${leak}`);
        }
      }
      try {
        await drive(node, 'the agent to forget the pod worker', () => (node.kubelet.podWorkers.state(uid) === undefined ? true : undefined), {
          virtualMs: 60_000,
          realMs: REAL_LIMIT_MS,
        });
      } catch (e) {
        failures.push(`(b) ${(e as Error).message}: worker state ${node.kubelet.podWorkers.state(uid)}`);
      }
    } catch (e) {
      failures.push(`(b) ${(e as Error).message}; status ${JSON.stringify(stored()?.status?.phase)}`);
    }
    for (const o of orderViolations({ entries: node.journal.entries(), scenario: c.scenario, podName: POD_NAME, terminalBeforeDeletion })) {
      failures.push(`(a) ${o}`);
    }
    if (failures.length > 0) failures.push(`context: ${context(node).join(' | ')}`);
    return { failures, phase, journalSize: node.journal.size, virtualMs: node.clock.monotonic() };
  } finally {
    await node.close();
  }
}
