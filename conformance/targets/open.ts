import { provisionContainerdTarget } from '../../ci/environment.js';
import type { Target } from '../framework/target.js';
import { openFakeCriTarget } from '../../fakes/cri/conformance-target.js';
import { runtimeTarget } from './runtime-target.js';

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
 * starts only its local registry with the test images); or a containerd it provisions itself.
 */
export async function openTarget(options: OpenTargetOptions): Promise<Target> {
  if (!options.runtimeEndpoint && !options.provisionContainerd) return openFakeCriTarget();
  const provisioned = await provisionContainerdTarget({
    runtimeEndpoint: options.runtimeEndpoint,
    imageEndpoint: options.imageEndpoint,
    ...(options.log ? { log: options.log } : {}),
  });
  return runtimeTarget(provisioned.info, async () => {
    const report = await provisioned.stop();
    for (const problem of report.problems) options.log?.(`teardown: ${problem}`);
  });
}
