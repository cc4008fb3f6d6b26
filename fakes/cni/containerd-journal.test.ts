import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCriClient } from '../../agent/runtime/cri-client.js';
import { provisionContainerdTarget } from '../../ci/environment.js';
import { Journal, match } from '../journal/journal.js';
import { startJournalSink } from '../journal/sink.js';
import { installCniPlugin } from './install.js';

/**
 * The plugin chained after bridge + portmap under a real containerd: every CNI call the runtime makes
 * lands in the harness journal, acknowledged before the plugin answers, so an ADD is journaled before
 * RunPodSandbox returns. Needs root and containerd (the provisioned target fails, never skips, without them).
 */
describe('kubelet-harness-cni under containerd', () => {
  it('journals ADD before RunPodSandbox returns and DEL when the sandbox stops', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kh-cni-ctrd-'));
    const journal = new Journal();
    const sink = await startJournalSink({ socketPath: join(dir, 'journal.sock'), journal });
    const target = await provisionContainerdTarget();
    const containerd = target.containerd;
    if (!containerd) throw new Error('expected a provisioned containerd');
    const cri = createCriClient({ runtimeEndpoint: target.info.runtimeEndpoint });
    try {
      await installCniPlugin(containerd.cniBinDir);
      await containerd.configureCni({ chain: [{ type: 'kubelet-harness-cni', dataDir: join(dir, 'data'), journalSocket: sink.socketPath }] });
      // containerd picks up a rewritten conflist asynchronously: retry until a sandbox went through the plugin.
      let sandboxId = '';
      let sizeAtReturn = 0;
      for (let attempt = 0; attempt < 40 && !sandboxId; attempt++) {
        const uid = `cni-journal-${process.pid}-${attempt}`;
        const { podSandboxId } = await cri.runPodSandbox({ config: { metadata: { name: 'cni-journal', uid, namespace: 'kubelet-harness', attempt: 0 } } });
        sizeAtReturn = journal.size;
        if (journal.first(match('cni', 'ADD', { podSandboxId }))) sandboxId = podSandboxId;
        else {
          await cri.stopPodSandbox({ podSandboxId });
          await cri.removePodSandbox({ podSandboxId });
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(sandboxId).not.toBe('');
      const add = journal.first(match('cni', 'ADD', { podSandboxId: sandboxId }))!;
      expect(add.seq).toBeLessThanOrEqual(sizeAtReturn);
      expect(add.subject).toMatchObject({ podName: 'cni-journal', podNamespace: 'kubelet-harness', ifname: 'eth0' });
      expect(add.request).toMatchObject({ chained: true, type: 'kubelet-harness-cni' });
      const status = await cri.podSandboxStatus({ podSandboxId: sandboxId });
      const ip = status.status?.network?.ip ?? '';
      expect(ip).not.toBe('');
      // The plugin passed bridge's result through: the journaled result holds the pod's address.
      expect(JSON.stringify(add.response)).toContain(`"${ip}/`);

      await cri.stopPodSandbox({ podSandboxId: sandboxId });
      expect(journal.first(match('cni', 'DEL', { podSandboxId: sandboxId }))).toBeDefined();
      await cri.removePodSandbox({ podSandboxId: sandboxId });
    } finally {
      cri.close();
      const report = await target.stop();
      await sink.close();
      rmSync(dir, { recursive: true, force: true });
      expect(report.problems).toEqual([]);
    }
  });
});
