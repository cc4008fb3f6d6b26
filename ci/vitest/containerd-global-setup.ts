/**
 * Global setup of the `conformance-containerd` vitest project. Provisions the local registry and a private
 * containerd (or, with CRI_ENDPOINT set, uses that runtime and only starts the registry), provides the target to
 * the specs as `inject('criTarget')`, and tears everything down afterwards, pass or fail.
 * When neither is possible it throws with instructions: the project fails, it is never skipped.
 *
 * The provisioned containerd chains the project's CNI plugin after bridge + portmap. The plugin reports to a
 * journal sink at `inject('cniJournalSocket')`, which the spec worker owns (the journal lives in its process);
 * the sink is optional to the plugin, so pods run whether or not a worker is listening.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { CNI_PLUGIN_NAME, installCniPlugin } from '../../fakes/cni/install.js';
import { provisionContainerdTarget, type RuntimeTargetInfo } from '../environment.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The CRI target of the conformance-containerd project (see ci/environment.ts). */
    criTarget: RuntimeTargetInfo;
    /** Unix socket the chained CNI plugin reports to; '' when the runtime is not one the harness provisioned. */
    cniJournalSocket: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => void process.stderr.write(`[containerd-global-setup] ${line}\n`);
  const runtimeEndpoint = process.env['CRI_ENDPOINT'] || undefined;
  // Short path under the temp dir: unix socket paths are limited to 107 bytes.
  const cniDir = mkdtempSync(join(tmpdir(), 'kh-cni-'));
  const journalSocket = join(cniDir, 'journal.sock');
  let target;
  try {
    const chain = runtimeEndpoint
      ? {}
      : {
          extraCniPlugins: [{ type: CNI_PLUGIN_NAME, path: await installCniPlugin(join(cniDir, 'bin')) }],
          extraCniChain: [{ type: CNI_PLUGIN_NAME, dataDir: join(cniDir, 'data'), journalSocket, journalSocketOptional: true }],
        };
    target = await provisionContainerdTarget({
      runtimeEndpoint,
      imageEndpoint: process.env['CRI_IMAGE_ENDPOINT'] || undefined,
      log,
      ...chain,
    });
  } catch (error) {
    rmSync(cniDir, { recursive: true, force: true });
    throw error;
  }
  const provisioned = target;
  log(`${provisioned.info.kind} target ready in ${provisioned.info.provisioningMs} ms: ${provisioned.info.runtimeEndpoint}`);
  project.provide('criTarget', provisioned.info);
  project.provide('cniJournalSocket', runtimeEndpoint ? '' : journalSocket);
  return async () => {
    const report = await provisioned.stop();
    rmSync(cniDir, { recursive: true, force: true });
    log(`teardown in ${Math.round(report.durationMs)} ms` + (report.containerd ? `: removed ${report.containerd.podsRemoved} pod(s), ${report.containerd.containersRemoved} container(s)` : ''));
    // Anything left behind fails the run loudly instead of leaking into the next one.
    if (report.problems.length > 0) throw new Error(`teardown left problems:\n  ${report.problems.join('\n  ')}`);
  };
}
