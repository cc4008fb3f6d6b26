import type { V1ContainerImage, V1Node, V1NodeCondition, V1NodeStatus } from '@kubernetes/client-node';
import { nodeAllocatable } from '../resources/allocatable.js';
import { Quantity } from '../resources/quantity.js';
import type { MachineInfo } from './machine.js';

/**
 * The node object's status as the kubelet's setters build it (upstream pkg/kubelet/nodestatus/setters.go):
 * capacity and allocatable, node info, addresses, the Ready/MemoryPressure/DiskPressure/PIDPressure
 * conditions, and NetworkUnavailable from the runtime's NetworkReady (kept as a network plugin would).
 * Heartbeat times move on every update; transition times only when a condition's status changes.
 */

export interface RuntimeHealth {
  /** Status RPC failed or is stale. */
  readonly reachable: boolean;
  readonly runtimeReady?: { status: boolean; reason: string; message: string } | undefined;
  readonly networkReady?: { status: boolean; reason: string; message: string } | undefined;
  /** `${runtimeName}://${runtimeVersion}`. */
  readonly version: string;
}

export interface NodeStatusInput {
  readonly machine: MachineInfo;
  readonly maxPods: number;
  readonly podsPerCore?: number;
  readonly kubeReserved?: Readonly<Record<string, string>>;
  readonly systemReserved?: Readonly<Record<string, string>>;
  readonly evictionHard?: Readonly<Record<string, string>>;
  readonly kubeletVersion: string;
  readonly kubeletPort: number;
  readonly runtime: RuntimeHealth;
  readonly pressure: { readonly memory: boolean; readonly disk: boolean; readonly pid: boolean };
  /** Extra reasons the node is not ready (PLEG unhealthy, ...). */
  readonly otherErrors?: readonly string[];
  /** node.status.images, already sorted and cut to nodeStatusMaxImages (./images.ts); absent = not reported. */
  readonly images?: readonly V1ContainerImage[];
  readonly previous: V1NodeStatus | undefined;
  readonly now: number;
}

export function nodeCapacity(input: Pick<NodeStatusInput, 'machine' | 'maxPods' | 'podsPerCore'>): Record<string, string> {
  const m = input.machine;
  let pods = input.maxPods;
  if (input.podsPerCore && input.podsPerCore > 0) pods = Math.min(input.podsPerCore * m.cpuCores, input.maxPods);
  const cap: Record<string, string> = {
    cpu: String(m.cpuCores),
    memory: Quantity.fromBigInt(m.memoryBytes, 'BinarySI').toString(),
    'ephemeral-storage': Quantity.fromBigInt(m.ephemeralStorageBytes, 'BinarySI').toString(),
    pods: String(pods),
  };
  for (const [name, bytes] of Object.entries(m.hugepages)) cap[name] = Quantity.fromBigInt(bytes, 'BinarySI').toString();
  return cap;
}

export function allocatableOf(capacity: Record<string, string>, input: Pick<NodeStatusInput, 'kubeReserved' | 'systemReserved' | 'evictionHard'>): Record<string, string> {
  const alloc = nodeAllocatable({
    capacity,
    ...(input.kubeReserved ? { kubeReserved: input.kubeReserved } : {}),
    ...(input.systemReserved ? { systemReserved: input.systemReserved } : {}),
    ...(input.evictionHard ? { evictionHard: input.evictionHard } : {}),
  });
  const out: Record<string, string> = {};
  for (const [k, q] of Object.entries(alloc) as Array<[string, Quantity]>) out[k] = q.toString();
  return out;
}

function condition(
  previous: V1NodeStatus | undefined,
  type: string,
  status: 'True' | 'False' | 'Unknown',
  reason: string,
  message: string,
  now: number,
): V1NodeCondition {
  const old = previous?.conditions?.find((c) => c.type === type);
  const transition = old && old.status === status && old.lastTransitionTime ? new Date(old.lastTransitionTime) : new Date(now);
  return { type, status, reason, message, lastHeartbeatTime: new Date(now), lastTransitionTime: transition };
}

/** Ready's errors, in upstream order: runtime, network, then capacity and the rest. */
export function readinessErrors(input: NodeStatusInput, capacity: Record<string, string>): string[] {
  const errs: string[] = [];
  const r = input.runtime;
  if (!r.reachable) errs.push('container runtime is down');
  else if (r.runtimeReady && !r.runtimeReady.status) {
    errs.push(`container runtime not ready: RuntimeReady=false reason:${r.runtimeReady.reason} message:${r.runtimeReady.message}`);
  }
  if (r.reachable && r.networkReady && !r.networkReady.status) {
    errs.push(`container runtime network not ready: NetworkReady=false reason:${r.networkReady.reason} message:${r.networkReady.message}`);
  }
  const missing = ['cpu', 'memory', 'pods', 'ephemeral-storage'].filter((k) => capacity[k] === undefined);
  if (missing.length > 0) errs.push(`missing node capacity for resources: ${missing.join(', ')}`);
  errs.push(...(input.otherErrors ?? []));
  return errs;
}

export function buildNodeStatus(input: NodeStatusInput): V1NodeStatus {
  const capacity = nodeCapacity(input);
  const allocatable = allocatableOf(capacity, input);
  const errs = readinessErrors(input, capacity);
  const { now, previous } = input;
  const ready =
    errs.length === 0
      ? condition(previous, 'Ready', 'True', 'KubeletReady', 'kubelet is posting ready status', now)
      : condition(previous, 'Ready', 'False', 'KubeletNotReady', errs.length === 1 ? errs[0]! : `[${errs.join(', ')}]`, now);
  const memory = input.pressure.memory
    ? condition(previous, 'MemoryPressure', 'True', 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', now)
    : condition(previous, 'MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available', now);
  const disk = input.pressure.disk
    ? condition(previous, 'DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure', now)
    : condition(previous, 'DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure', now);
  const pid = input.pressure.pid
    ? condition(previous, 'PIDPressure', 'True', 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', now)
    : condition(previous, 'PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available', now);
  const net = input.runtime.networkReady;
  const network =
    net === undefined || !input.runtime.reachable
      ? condition(previous, 'NetworkUnavailable', 'Unknown', 'NetworkStatusUnknown', 'the container runtime does not report NetworkReady', now)
      : net.status
        ? condition(previous, 'NetworkUnavailable', 'False', 'RuntimeNetworkReady', 'container runtime reports NetworkReady=true', now)
        : condition(previous, 'NetworkUnavailable', 'True', net.reason || 'NetworkPluginNotReady', net.message || 'container runtime reports NetworkReady=false', now);

  const m = input.machine;
  return {
    capacity,
    allocatable,
    conditions: [network, memory, disk, pid, ready],
    addresses: [...m.addresses.map((a) => ({ type: 'InternalIP', address: a })), { type: 'Hostname', address: m.hostname }],
    daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } },
    // An empty list is sent as such: a patch that left the field out would keep images the runtime no longer has.
    ...(input.images ? { images: input.images.map((i) => ({ names: [...(i.names ?? [])], sizeBytes: i.sizeBytes })) } : {}),
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.systemUUID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: input.runtime.version,
      kubeletVersion: input.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: m.operatingSystem,
      architecture: m.architecture,
    },
  };
}

/** Status changed in anything but heartbeat times (then it must be written before the report interval). */
export function nodeStatusChanged(a: V1NodeStatus | undefined, b: V1NodeStatus): boolean {
  if (!a) return true;
  const strip = (s: V1NodeStatus): string =>
    JSON.stringify({
      ...s,
      conditions: (s.conditions ?? []).map((c) => ({
        type: c.type,
        status: c.status,
        reason: c.reason,
        message: c.message,
        lastTransitionTime: c.lastTransitionTime ? new Date(c.lastTransitionTime).toISOString().slice(0, 19) : undefined,
      })),
    });
  return strip(a) !== strip(b);
}

/** The node object the kubelet registers (upstream initialNode): well-known labels, taints, podCIDR. */
export function initialNode(
  nodeName: string,
  machine: MachineInfo,
  options: { taints?: ReadonlyArray<{ key: string; value?: string; effect: string }>; podCIDR?: string; labels?: Readonly<Record<string, string>> } = {},
): V1Node {
  const node: V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName,
      labels: {
        'kubernetes.io/hostname': nodeName,
        'kubernetes.io/os': machine.operatingSystem,
        'kubernetes.io/arch': machine.architecture,
        'beta.kubernetes.io/os': machine.operatingSystem,
        'beta.kubernetes.io/arch': machine.architecture,
        ...(options.labels ?? {}),
      },
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
  };
  if (options.taints && options.taints.length > 0) {
    node.spec!.taints = options.taints.map((t) => ({ key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) }));
  }
  if (options.podCIDR) {
    node.spec!.podCIDR = options.podCIDR;
    node.spec!.podCIDRs = [options.podCIDR];
  }
  return node;
}
