/**
 * The kubelet's side of `kubectl logs` (upstream Kubelet.GetKubeletContainerLogs and
 * kubeGenericRuntimeManager.GetContainerLogs): the pod by name, the container instance from its
 * status, the instance's log path from the runtime, then the file through ../logs/read-logs.ts.
 */
import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import type { Clock } from '../clock/clock.js';
import { readLogs, type LogSink } from '../logs/read-logs.js';
import { newLogOptions, type PodLogOptions } from '../logs/pod-log-options.js';
import type { CriClient } from '../runtime/cri-client.js';
import { containerForLogs, runtimeContainerId } from './container-log-status.js';

/** What the log endpoint needs of a kubelet. */
export interface ContainerLogsHost {
  readonly clock: Clock;
  readonly cri: Pick<CriClient, 'containerStatus'>;
  /** A pod this kubelet knows by namespace and name (its pod manager). */
  podByName(namespace: string, name: string): V1Pod | undefined;
  /** The status the kubelet last computed for the pod, if any. */
  podStatus(pod: V1Pod): V1PodStatus | undefined;
  readonly log?: (msg: string) => void;
}

export interface ContainerLogsOutput {
  /**
   * Called once the request is known to be answerable: errors thrown before it are the client's (400
   * upstream); later ones end up in the body, as upstream's do.
   */
  begin(): void;
  readonly sink: LogSink;
  readonly signal?: AbortSignal;
  /** How long a follower waits for a file event before looking again (tests shorten it). */
  readonly forceCheckPeriodMs?: number;
}

export async function getKubeletContainerLogs(
  host: ContainerLogsHost,
  namespace: string,
  podName: string,
  containerName: string,
  options: PodLogOptions,
  out: ContainerLogsOutput,
): Promise<void> {
  const pod = host.podByName(namespace, podName);
  if (!pod) throw new Error(`pod ${JSON.stringify(podName)} cannot be found - no logs available`);
  const status = host.podStatus(pod) ?? pod.status ?? {};
  const choice = containerForLogs(podName, status, containerName, options.previous ?? false);
  if ('error' in choice) throw new Error(choice.error);
  out.begin();
  const id = runtimeContainerId(choice.containerId);
  let logPath: string;
  try {
    const { status: cs } = await host.cri.containerStatus({ containerId: id });
    if (!cs) throw new Error('container status is nil');
    logPath = cs.logPath;
  } catch (err) {
    host.log?.(`container logs: status of ${choice.containerId}: ${(err as Error).message}`);
    throw new Error(`unable to retrieve container logs for ${choice.containerId}`);
  }
  await readLogs(
    logPath,
    id,
    newLogOptions(options, host.clock.now()),
    {
      clock: host.clock,
      cri: host.cri,
      ...(out.signal ? { signal: out.signal } : {}),
      ...(out.forceCheckPeriodMs !== undefined ? { forceCheckPeriodMs: out.forceCheckPeriodMs } : {}),
      ...(host.log ? { log: host.log } : {}),
    },
    out.sink,
  );
}
