import { provisionContainerdTarget } from '../../ci/environment.js';
import type { Target } from '../framework/target.js';
import { openFakeCriTarget } from '../../fakes/cri/conformance-target.js';
import { prepareHarnessCniChain } from '../../fakes/cni/harness-chain.js';
import { runtimeTarget, runtimeTargetWithCniJournal } from './runtime-target.js';

export interface OpenTargetOptions {
  /** A runtime to test; without one the embedded fake runtime is used. */
  readonly runtimeEndpoint?: string;
  readonly imageEndpoint?: string;
  /** Provision a private containerd (root on Debian) instead of using an endpoint. */
  readonly provisionContainerd?: boolean;
  readonly log?: (line: string) => void;
}

/**
 * Opens the target the CLI runs against: the embedded fakes by default; a runtime endpoint (the harness then
 * starts only its local registry with the test images); or a containerd it provisions itself, with the project's
 * CNI plugin chained after bridge so the runtime's CNI calls reach the target's journal.
 */
export async function openTarget(options: OpenTargetOptions): Promise<Target> {
  if (!options.runtimeEndpoint && !options.provisionContainerd) return openFakeCriTarget();
  const cni = options.runtimeEndpoint ? undefined : await prepareHarnessCniChain();
  let provisioned;
  try {
    provisioned = await provisionContainerdTarget({
      runtimeEndpoint: options.runtimeEndpoint,
      imageEndpoint: options.imageEndpoint,
      ...(options.log ? { log: options.log } : {}),
      ...(cni ? { extraCniPlugins: cni.plugins, extraCniChain: cni.chain } : {}),
    });
  } catch (error) {
    cni?.remove();
    throw error;
  }
  const stop = provisioned.stop;
  const close = async (): Promise<void> => {
    const report = await stop();
    cni?.remove();
    for (const problem of report.problems) options.log?.(`teardown: ${problem}`);
  };
  return cni ? runtimeTargetWithCniJournal(provisioned.info, cni.journalSocket, close) : runtimeTarget(provisioned.info, close);
}
