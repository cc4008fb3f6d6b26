/**
 * What one probe handler run returns (upstream probe.Result plus output and error):
 * - 'success' / 'failure': the probe ran and the container answered (or failed to);
 * - 'warning': counts as success, with a ProbeWarning event (an HTTP redirect that was not followed);
 * - 'unknown' with `error`: the prober could not run the probe (unresolvable port, runtime error).
 *   The worker throws such results away after the retries.
 */
export type HandlerResult = 'success' | 'warning' | 'failure' | 'unknown';

export interface ProbeRun {
  readonly result: HandlerResult;
  /** Body, command output or a description of the failure (capped at 10 KiB). */
  readonly output: string;
  readonly error?: Error;
}

/** Upstream caps what it reads from an HTTP body or exec output at 10 KiB. */
export const MAX_PROBE_OUTPUT_BYTES = 10 * 1024;

/** An error of the prober itself (as opposed to a failing probe); discarded by the worker. */
export class ProberError extends Error {
  override readonly name = 'ProberError';
}

export function unknownRun(error: Error): ProbeRun {
  return { result: 'unknown', output: '', error };
}

/**
 * `kube-probe/<major>.<minor>` from a kubelet version such as `v1.34.0-harness`; `kube-probe/` when the
 * version has no major.minor (upstream userAgent()).
 */
export function probeUserAgent(kubeletVersion: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(kubeletVersion);
  return m ? `kube-probe/${m[1]}.${m[2]}` : 'kube-probe/';
}
