/**
 * Global setup of the `conformance-containerd` vitest project. Provisions the local registry and a private
 * containerd (or, with CRI_ENDPOINT set, uses that runtime and only starts the registry), provides the target to
 * the specs as `inject('criTarget')`, and tears everything down afterwards, pass or fail.
 * When neither is possible it throws with instructions: the project fails, it is never skipped.
 *
 * The provisioned containerd chains the project's CNI plugin after bridge + portmap. The plugin reports to a
 * journal sink at `inject('cniJournalSocket')`, which the spec worker owns (the journal lives in its process).
 */
import type { TestProject } from 'vitest/node';
import { prepareHarnessCniChain, type HarnessCniChain } from '../../fakes/cni/harness-chain.js';
import { provisionContainerdTarget, type RuntimeTargetInfo } from '../environment.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The CRI target of the conformance-containerd project (see ci/environment.ts). */
    criTarget: RuntimeTargetInfo;
    /** Unix socket the chained CNI plugin reports to; '' for a runtime the harness did not provision. */
    cniJournalSocket: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => void process.stderr.write(`[containerd-global-setup] ${line}\n`);
  const runtimeEndpoint = process.env['CRI_ENDPOINT'] || undefined;
  const cni: HarnessCniChain | undefined = runtimeEndpoint ? undefined : await prepareHarnessCniChain();
  let target;
  try {
    target = await provisionContainerdTarget({
      runtimeEndpoint,
      imageEndpoint: process.env['CRI_IMAGE_ENDPOINT'] || undefined,
      log,
      ...(cni ? { extraCniPlugins: cni.plugins, extraCniChain: cni.chain } : {}),
    });
  } catch (error) {
    cni?.remove();
    throw error;
  }
  const provisioned = target;
  log(`${provisioned.info.kind} target ready in ${provisioned.info.provisioningMs} ms: ${provisioned.info.runtimeEndpoint}`);
  project.provide('criTarget', provisioned.info);
  project.provide('cniJournalSocket', cni?.journalSocket ?? '');
  return async () => {
    const report = await provisioned.stop();
    cni?.remove();
    log(`teardown in ${Math.round(report.durationMs)} ms` + (report.containerd ? `: removed ${report.containerd.podsRemoved} pod(s), ${report.containerd.containersRemoved} container(s)` : ''));
    // Anything left behind fails the run loudly instead of leaking into the next one.
    if (report.problems.length > 0) throw new Error(`teardown left problems:\n  ${report.problems.join('\n  ')}`);
  };
}
