import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCriClient, type CriClient } from '../../agent/runtime/cri-client.js';
import { installCniPlugin } from '../../fakes/cni/install.js';
import { provisionContainerdTarget } from '../environment.js';
import { overlaps } from './network-choice.js';

/** RunPodSandbox until `accept` is happy with the outcome: containerd reloads its CNI conf dir asynchronously. */
async function runUntil(cri: CriClient, accept: (outcome: { id?: string; error?: Error }) => boolean): Promise<{ id?: string; error?: Error }> {
  for (let attempt = 0; ; attempt++) {
    let outcome: { id?: string; error?: Error };
    try {
      const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: `chain-${attempt}`, uid: `chain-${process.pid}-${attempt}`, namespace: 'kubelet-harness', attempt: 0 } } });
      outcome = { id: podSandboxId };
    } catch (error) {
      outcome = { error: error as Error };
    }
    if (accept(outcome) || attempt >= 20) return outcome;
    if (outcome.id) {
      await cri.stopPodSandbox({ podSandboxId: outcome.id });
      await cri.removePodSandbox({ podSandboxId: outcome.id });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the CNI chain hook of the provisioned containerd', () => {
  it('runs the project plugin after bridge and portmap once it is linked in and chained', { timeout: 120_000 }, async () => {
    const target = await provisionContainerdTarget();
    const containerd = target.containerd;
    if (!containerd) throw new Error('expected a provisioned containerd');
    const cri = createCriClient({ runtimeEndpoint: target.info.runtimeEndpoint });
    try {
      await installCniPlugin(containerd.cniBinDir);
      const plugin = { type: 'kubelet-harness-cni', dataDir: join(containerd.runDir, 'kubelet-harness-cni') };
      await containerd.configureCni({ chain: [{ ...plugin, faults: [{ command: 'ADD', code: 11, msg: 'refused by the chained plugin' }] }] });
      const refused = await runUntil(cri, (outcome) => outcome.error !== undefined);
      expect(refused.error?.message).toContain('refused by the chained plugin');

      await containerd.configureCni({ chain: [plugin] });
      const accepted = await runUntil(cri, (outcome) => outcome.id !== undefined);
      expect(accepted.error).toBeUndefined();
      const ip = (await cri.podSandboxStatus({ podSandboxId: accepted.id ?? '' })).status?.network?.ip ?? '';
      // The chained plugin passes the bridge's result through: the pod keeps its bridge address.
      expect(overlaps(`${ip}/32`, containerd.subnet)).toBe(true);
    } finally {
      cri.close();
      const report = await target.stop();
      expect(report.problems).toEqual([]);
    }
  });
});
