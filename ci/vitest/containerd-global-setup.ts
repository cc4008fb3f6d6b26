/**
 * Global setup of the `conformance-containerd` vitest project. Provisions the local registry and a private
 * containerd (or, with CRI_ENDPOINT set, uses that runtime and only starts the registry), provides the target to
 * the specs as `inject('criTarget')`, and tears everything down afterwards, pass or fail.
 * When neither is possible it throws with instructions: the project fails, it is never skipped.
 */
import type { TestProject } from 'vitest/node';
import { provisionContainerdTarget, type RuntimeTargetInfo } from '../environment.js';

declare module 'vitest' {
  interface ProvidedContext {
    /** The CRI target of the conformance-containerd project (see ci/environment.ts). */
    criTarget: RuntimeTargetInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => void process.stderr.write(`[containerd-global-setup] ${line}\n`);
  const target = await provisionContainerdTarget({
    runtimeEndpoint: process.env['CRI_ENDPOINT'] || undefined,
    imageEndpoint: process.env['CRI_IMAGE_ENDPOINT'] || undefined,
    log,
  });
  log(`${target.info.kind} target ready in ${target.info.provisioningMs} ms: ${target.info.runtimeEndpoint}`);
  project.provide('criTarget', target.info);
  return async () => {
    const report = await target.stop();
    log(`teardown in ${Math.round(report.durationMs)} ms` + (report.containerd ? `: removed ${report.containerd.podsRemoved} pod(s), ${report.containerd.containersRemoved} container(s)` : ''));
    // Anything left behind fails the run loudly instead of leaking into the next one.
    if (report.problems.length > 0) throw new Error(`teardown left problems:\n  ${report.problems.join('\n  ')}`);
  };
}
