import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Clock } from '../../clock/clock.js';
import type { CriClient } from '../../runtime/cri-client.js';
import type { ProbeOutcome, ProbeType } from '../types.js';
import { execProbe, expandProbeCommand } from './exec.js';
import { grpcProbe } from './grpc.js';
import { buildHttpProbeRequest, httpProbe } from './http.js';
import { resolveContainerPort } from './resolve-port.js';
import { tcpProbe } from './tcp.js';
import { ProberError, unknownRun, type ProbeRun } from './types.js';

/** What a probe run needs to know about its target. */
export interface ProbeTarget {
  readonly probeType: ProbeType;
  readonly probe: V1Probe;
  readonly pod: V1Pod;
  /** The pod IP from the status manager ('' when none yet). */
  readonly podIP: string;
  readonly container: V1Container;
  /** The CRI container ID (without the `containerd://` prefix). */
  readonly containerId: string;
}

export interface ProbeHandlerDeps {
  readonly clock: Clock;
  /** For exec probes. */
  readonly cri: Pick<CriClient, 'execSync'>;
  /** `kube-probe/<major>.<minor>` (see probeUserAgent). */
  readonly userAgent: string;
}

/** Upstream maxProbeRetries: how often one iteration tries a probe that returned an error. */
export const MAX_PROBE_RETRIES = 3;

/**
 * One run of the probe's handler (upstream prober.runProbe). The probe must have been defaulted
 * (timeoutSeconds > 0); a missing or unknown handler is a prober error.
 */
export async function runProbe(target: ProbeTarget, deps: ProbeHandlerDeps): Promise<ProbeRun> {
  const { probe, container } = target;
  const timeoutMs = Math.max(1, probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const command = expandProbeCommand(probe.exec.command ?? [], container.env);
      return await execProbe(deps.cri, target.containerId, command, timeoutMs / 1000);
    }
    if (probe.httpGet) {
      const request = buildHttpProbeRequest(probe.httpGet, container, target.podIP, deps.userAgent);
      return await httpProbe(request, { timeoutMs, clock: deps.clock });
    }
    if (probe.tcpSocket) {
      const port = resolveContainerPort(probe.tcpSocket.port as number | string, container);
      return await tcpProbe(probe.tcpSocket.host || target.podIP, port, { timeoutMs, clock: deps.clock });
    }
    if (probe.grpc) {
      const port = resolveContainerPort(probe.grpc.port, container);
      return await grpcProbe(target.podIP, port, probe.grpc.service ?? '', { timeoutMs, clock: deps.clock, userAgent: deps.userAgent });
    }
  } catch (err) {
    if (err instanceof ProberError) return unknownRun(err);
    throw err;
  }
  const pod = `${target.pod.metadata?.namespace ?? ''}/${target.pod.metadata?.name ?? ''}`;
  return unknownRun(new ProberError(`missing probe handler for ${pod}:${container.name}`));
}

/** Runs the probe up to `retries` times while it returns a prober error (plain failures are not retried). */
export async function runProbeWithRetries(target: ProbeTarget, deps: ProbeHandlerDeps, retries = MAX_PROBE_RETRIES): Promise<ProbeRun> {
  let run: ProbeRun = unknownRun(new ProberError('probe not run'));
  for (let i = 0; i < retries; i++) {
    run = await runProbe(target, deps);
    if (run.error === undefined) return run;
  }
  return run;
}

/**
 * What the worker counts (upstream prober.probe): an error is discarded, success and warning are
 * Success, anything else is Failure.
 */
export function probeOutcome(run: ProbeRun): ProbeOutcome {
  if (run.error !== undefined) return 'error';
  return run.result === 'success' || run.result === 'warning' ? 'success' : 'failure';
}

/** The event a run records, if any (upstream prober.probe: Unhealthy or ProbeWarning on the container). */
export function probeEvent(probeType: ProbeType, run: ProbeRun): { reason: 'Unhealthy' | 'ProbeWarning'; message: string } | null {
  const name = probeType.charAt(0).toUpperCase() + probeType.slice(1);
  if (run.error !== undefined) return { reason: 'Unhealthy', message: `${name} probe errored: ${run.error.message}` };
  if (run.result === 'warning') return { reason: 'ProbeWarning', message: `${name} probe warning: ${run.output}` };
  if (run.result !== 'success') return { reason: 'Unhealthy', message: `${name} probe failed: ${run.output}` };
  return null;
}
