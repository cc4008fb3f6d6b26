import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from '@kubernetes/client-node';
import { podSandboxChanged, type ProbeCacheValue } from '../kuberuntime/compute-pod-actions.js';
import { ephemeralContainersOf } from '../kuberuntime/ephemeral-containers.js';
import { containersOf, initContainersOf, isHostNetwork, isRestartableInitContainer } from '../kuberuntime/pod-helpers.js';
import type { RuntimePodStatus } from '../kuberuntime/runtime-status.js';
import {
  DISRUPTION_TARGET,
  KUBELET_OWNED_CONDITIONS,
  containersReadyCondition,
  podInitializedCondition,
  podReadyCondition,
  podReadyToStartContainersCondition,
  podScheduledCondition,
} from './conditions.js';
import { convertToApiContainerStatuses, type StartFailure } from './container-statuses.js';
import { getPhase, isTerminalPhase, type PodPhase } from './phase.js';

/**
 * The API status the kubelet would publish for a pod right now (upstream generateAPIPodStatus): pure
 * function of the spec, the API's current status, the status manager's last status, the runtime
 * snapshot, probe results and the reasons of failed starts.
 */

/** Probe results the status needs: readiness/startup by container id, and which workers exist. */
export interface ProbeStatusView {
  readiness(containerId: string): ProbeCacheValue | undefined;
  startup(containerId: string): ProbeCacheValue | undefined;
  hasWorker(containerName: string, probe: 'readiness' | 'startup'): boolean;
}

/** No results cached; a worker exists for every probe the spec defines (the state right after AddPod). */
export function probeStatusFromSpec(pod: V1Pod): ProbeStatusView {
  const byName = new Map<string, V1Container>();
  for (const c of containersOf(pod)) byName.set(c.name, c);
  for (const c of initContainersOf(pod)) if (isRestartableInitContainer(c)) byName.set(c.name, c);
  return {
    readiness: () => undefined,
    startup: () => undefined,
    hasWorker: (name, probe) => {
      const c = byName.get(name);
      return probe === 'readiness' ? c?.readinessProbe != null : c?.startupProbe != null;
    },
  };
}

export interface GenerateStatusInput {
  readonly pod: V1Pod;
  readonly runtime: RuntimePodStatus;
  /** The status manager's last status for the pod; defaults to the API's pod.status. */
  readonly oldStatus?: V1PodStatus | undefined;
  /** True while the pod is being torn down (deleted, evicted, or finished). */
  readonly podIsTerminal: boolean;
  readonly qosClass: string;
  readonly runtimeName: string;
  readonly startFailures?: ReadonlyMap<string, StartFailure>;
  readonly probes?: ProbeStatusView;
  readonly hostIPs?: readonly string[];
  /** An eviction decided for the pod: phase Failed with this reason and message. */
  readonly eviction?: { readonly reason: string; readonly message: string } | undefined;
}

export function generateApiPodStatus(input: GenerateStatusInput): V1PodStatus {
  const { pod, runtime } = input;
  const apiStatus = pod.status ?? {};
  const oldStatus = input.oldStatus ?? apiStatus;
  const probes = input.probes ?? probeStatusFromSpec(pod);
  const convert = { runtimeName: input.runtimeName, startFailures: input.startFailures ?? new Map<string, StartFailure>() };
  const hasInit = initContainersOf(pod).length > 0;

  const s: V1PodStatus = {};
  if (runtime.ips.length > 0) {
    s.podIPs = runtime.ips.map((ip) => ({ ip }));
    s.podIP = runtime.ips[0]!;
  }
  s.qosClass = input.qosClass;
  s.containerStatuses = convertToApiContainerStatuses(
    pod, runtime, oldStatus.containerStatuses ?? [], containersOf(pod), hasInit, false, convert,
  );
  s.initContainerStatuses = convertToApiContainerStatuses(
    pod, runtime, oldStatus.initContainerStatuses ?? [], initContainersOf(pod), hasInit, true, convert,
  );
  // Ephemeral containers convert like regular ones but count for neither phase nor conditions.
  const ephemerals = ephemeralContainersOf(pod);
  if (ephemerals.length > 0) {
    s.ephemeralContainerStatuses = convertToApiContainerStatuses(pod, runtime, oldStatus.ephemeralContainerStatuses ?? [], ephemerals, hasInit, false, convert);
  }

  let phase: PodPhase = getPhase(pod, [...s.containerStatuses, ...s.initContainerStatuses], input.podIsTerminal);
  // Terminal phases are sticky: neither the kubelet's last status nor the API's may be undone.
  if (!isTerminalPhase(phase)) {
    if (isTerminalPhase(oldStatus.phase)) phase = oldStatus.phase;
    else if (isTerminalPhase(apiStatus.phase)) phase = apiStatus.phase;
  }
  s.phase = phase;
  if (phase === oldStatus.phase) {
    const reason = oldStatus.reason || apiStatus.reason;
    const message = oldStatus.message || apiStatus.message;
    if (reason) s.reason = reason;
    if (message) s.message = message;
  }
  if (input.eviction) {
    s.phase = 'Failed';
    s.reason = input.eviction.reason;
    s.message = input.eviction.message;
  }
  if (isTerminalPhase(apiStatus.phase) && s.phase !== apiStatus.phase) {
    s.phase = apiStatus.phase; // the API already shows a terminal phase
  }

  applyProbeResults(pod, s, probes);

  const conditions: V1PodCondition[] = (apiStatus.conditions ?? []).filter((c) => !KUBELET_OWNED_CONDITIONS.has(c.type));
  const disruption = (oldStatus.conditions ?? []).find((c) => c.type === DISRUPTION_TARGET);
  if (disruption) {
    const at = conditions.findIndex((c) => c.type === DISRUPTION_TARGET);
    if (at >= 0) conditions[at] = disruption;
    else conditions.push(disruption);
  }
  const finalPhase = s.phase as PodPhase;
  const all: V1ContainerStatus[] = [...s.initContainerStatuses, ...s.containerStatuses];
  conditions.push(podReadyToStartContainersCondition(!podSandboxChanged(pod, runtime).changed));
  conditions.push(podInitializedCondition(pod, all, finalPhase));
  conditions.push(podReadyCondition(pod, conditions, all, finalPhase));
  conditions.push(containersReadyCondition(pod, all, finalPhase));
  conditions.push(podScheduledCondition());
  s.conditions = conditions;

  const hostIPs = input.hostIPs ?? [];
  if (hostIPs.length > 0) {
    s.hostIP = hostIPs[0]!;
    s.hostIPs = hostIPs.map((ip) => ({ ip }));
    if (isHostNetwork(pod) && !s.podIP) {
      s.podIP = hostIPs[0]!;
      s.podIPs = hostIPs.map((ip) => ({ ip }));
    }
  }
  return s;
}

function containerIdOf(status: V1ContainerStatus): string {
  const cid = status.containerID ?? '';
  const at = cid.indexOf('://');
  return at >= 0 ? cid.slice(at + 3) : cid;
}

/** started/ready per the prober manager's UpdatePodStatus (semantics §2.4). */
export function applyProbeResults(pod: V1Pod, status: V1PodStatus, probes: ProbeStatusView): void {
  const isStarted = (cs: V1ContainerStatus): boolean => {
    if (!cs.state?.running) return false;
    const startup = probes.startup(containerIdOf(cs));
    if (startup !== undefined) return startup === 'Success';
    return !probes.hasWorker(cs.name, 'startup');
  };
  const isReady = (cs: V1ContainerStatus): boolean => {
    if (!cs.state?.running) return false;
    if (probes.readiness(containerIdOf(cs)) === 'Success') return true;
    return !probes.hasWorker(cs.name, 'readiness');
  };
  for (const cs of status.containerStatuses ?? []) {
    const started = isStarted(cs);
    cs.started = started;
    cs.ready = started && isReady(cs);
  }
  const inits = initContainersOf(pod);
  for (const cs of status.initContainerStatuses ?? []) {
    const started = isStarted(cs);
    cs.started = started;
    const spec = inits.find((c) => c.name === cs.name);
    if (!spec) continue;
    if (!isRestartableInitContainer(spec)) {
      cs.ready = cs.state?.terminated !== undefined && cs.state.terminated.exitCode === 0;
      continue;
    }
    cs.ready = started && isReady(cs);
  }
}
