/**
 * Which pod the eviction manager evicts first (kubelet-semantics §5.6–5.7, upstream helpers.go rank
 * functions). QoS class is not a key. Memory and disk signals order by: pods without stats first,
 * then pods whose usage exceeds their request, then lower priority, then larger usage − request.
 * pid.available orders by priority, then process count. Critical pods are ranked like any other
 * but never chosen (selectPodToEvict).
 *
 * Upstream sorts with an unstable sort, so pods with equal keys come in no defined order; this
 * module keeps their input order.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { Quantity } from '../resources/quantity.js';
import { isPodLevelResourcesSet, podLevelResourcesEnabled, podRequests, type FeatureGateOptions } from '../resources/pod-requests.js';
import { signalResource, type EvictionSignal } from './signals.js';

/** A pod's measured usage from the stats summary; absent fields count as zero. */
export interface PodUsage {
  readonly memoryWorkingSetBytes?: bigint;
  readonly rootfsBytes?: bigint;
  readonly logsBytes?: bigint;
  /** Local volumes only: emptyDir (not memory-backed), hostPath, configMap, secret, downwardAPI… */
  readonly localVolumesBytes?: bigint;
  readonly processes?: number;
  /** Inodes used, for the *.inodesFree signals. */
  readonly rootfsInodes?: bigint;
  readonly logsInodes?: bigint;
  readonly localVolumesInodes?: bigint;
}

export interface RankedPodInput {
  readonly pod: V1Pod;
  /** null when the stats summary had no entry for the pod. */
  readonly stats: PodUsage | null;
}

/**
 * Where pod data lives, which decides what each disk signal measures:
 * - 'shared' (default): one filesystem; every disk signal counts rootfs + logs + local volumes.
 * - 'imagefs': a dedicated image filesystem holding writable layers; nodefs counts logs + local
 *   volumes, imagefs and containerfs count rootfs.
 * - 'split': images on imagefs, writable layers on nodefs (containerfs = nodefs); nodefs and
 *   containerfs count rootfs + logs + local volumes, imagefs counts nothing a pod owns.
 */
export type FilesystemLayout = 'shared' | 'imagefs' | 'split';

/**
 * How pods without stats compare to measured pods:
 * - 'rankFirst' (default, upstream master): before every measured pod.
 * - 'afterMeasuredOverRequest': after measured pods whose usage exceeds their request, before the
 *   rest — the change proposed (not merged) in kubernetes PR #142306.
 */
export type MissingStatsPolicy = 'rankFirst' | 'afterMeasuredOverRequest';

export interface RankOptions extends FeatureGateOptions {
  readonly layout?: FilesystemLayout;
  readonly missingStats?: MissingStatsPolicy;
}

type FsPart = 'rootfs' | 'logs' | 'localVolumes';

function measuredParts(signal: EvictionSignal, layout: FilesystemLayout): FsPart[] {
  const all: FsPart[] = ['rootfs', 'logs', 'localVolumes'];
  if (layout === 'shared') return all;
  const fs = signal.split('.')[0];
  if (layout === 'imagefs') return fs === 'nodefs' ? ['logs', 'localVolumes'] : ['rootfs'];
  return fs === 'imagefs' ? [] : all;
}

function diskUsage(stats: PodUsage, parts: readonly FsPart[], inodes: boolean): bigint {
  let total = 0n;
  for (const part of parts) {
    if (part === 'rootfs') total += (inodes ? stats.rootfsInodes : stats.rootfsBytes) ?? 0n;
    else if (part === 'logs') total += (inodes ? stats.logsInodes : stats.logsBytes) ?? 0n;
    else total += (inodes ? stats.localVolumesInodes : stats.localVolumesBytes) ?? 0n;
  }
  return total;
}

const ZERO = Quantity.fromBigInt(0n);

/**
 * Upstream GetResourceRequestQuantity: pod requests without overhead (pod-level only when the gate
 * is on and they are set), then overhead added only to a non-zero total.
 * @example evictionRequest(podRequesting100MiWith20MiOverhead, 'memory').toString() // '120Mi'
 */
export function evictionRequest(pod: V1Pod, resource: string, options?: FeatureGateOptions): Quantity {
  const skipContainerLevel = podLevelResourcesEnabled(options) && isPodLevelResourcesSet(pod);
  let request = podRequests(pod, { ...options, excludeOverhead: true, skipContainerLevel })[resource] ?? ZERO;
  const overhead = pod.spec?.overhead?.[resource];
  if (overhead !== undefined && !request.isZero()) request = request.add(Quantity.parse(overhead));
  return request;
}

/** Upstream PodPriority: spec.priority, unset = 0. @example podPriority({ spec: { containers: [] } }) // 0 */
export function podPriority(pod: V1Pod): number {
  return pod.spec?.priority ?? 0;
}

interface Keys {
  readonly index: number;
  readonly pod: V1Pod;
  readonly found: boolean;
  readonly exceeds: boolean;
  readonly priority: number;
  /** usage − request (memory/disk) or process count (pid). */
  readonly excess: Quantity;
}

function keysFor(signal: EvictionSignal, input: RankedPodInput, index: number, options: RankOptions): Keys {
  const { pod, stats } = input;
  const priority = podPriority(pod);
  const resource = signalResource(signal);
  if (stats === null) return { index, pod, found: false, exceeds: false, priority, excess: ZERO };
  if (resource === 'pids') {
    return { index, pod, found: true, exceeds: false, priority, excess: Quantity.fromBigInt(BigInt(stats.processes ?? 0)) };
  }
  let usage: bigint;
  let exceedRequest: Quantity;
  let subtractRequest: Quantity;
  if (resource === 'memory') {
    usage = stats.memoryWorkingSetBytes ?? 0n;
    exceedRequest = evictionRequest(pod, 'memory', options);
    subtractRequest = exceedRequest;
  } else {
    const inodes = resource === 'inodes';
    usage = diskUsage(stats, measuredParts(signal, options.layout ?? 'shared'), inodes);
    exceedRequest = evictionRequest(pod, resource, options);
    // Upstream subtracts the ephemeral-storage request even when ranking by inodes.
    subtractRequest = inodes ? evictionRequest(pod, 'ephemeral-storage', options) : exceedRequest;
  }
  const used = Quantity.fromBigInt(usage, 'BinarySI');
  return { index, pod, found: true, exceeds: used.cmp(exceedRequest) > 0, priority, excess: used.sub(subtractRequest) };
}

/** true sorts first. */
function firstIfTrue(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? -1 : 1;
}

/** The first comparator of the memory/disk orders: missing stats and usage over request. */
function compareStatsAndExcess(a: Keys, b: Keys, policy: MissingStatsPolicy): number {
  if (a.found && b.found) return firstIfTrue(a.exceeds, b.exceeds);
  if (!a.found && !b.found) return 0;
  if (policy === 'afterMeasuredOverRequest') {
    // A measured pod over its request beats an unmeasured one; otherwise the unmeasured goes first.
    const measured = a.found ? a : b;
    if (measured.exceeds) return a.found ? -1 : 1;
  }
  return firstIfTrue(!a.found, !b.found);
}

function comparePriority(a: Keys, b: Keys): number {
  return a.priority === b.priority ? 0 : a.priority < b.priority ? -1 : 1;
}

/** Larger excess first; pods without stats tie with each other and go before measured ones. */
function compareExcess(a: Keys, b: Keys): number {
  if (!a.found || !b.found) return firstIfTrue(!a.found, !b.found);
  return b.excess.cmp(a.excess);
}

/**
 * Orders pods for eviction under `signal`, first to evict first; every pod is listed.
 * @example rankPodsForEviction('memory.available', [{ pod: a, stats: { memoryWorkingSetBytes: 300n << 20n } }, { pod: b, stats: null }]) // [b, a]
 */
export function rankPodsForEviction(
  signal: EvictionSignal,
  pods: readonly RankedPodInput[],
  options: RankOptions = {},
): V1Pod[] {
  const keys = pods.map((input, i) => keysFor(signal, input, i, options));
  const policy = options.missingStats ?? 'rankFirst';
  const pidSignal = signalResource(signal) === 'pids';
  keys.sort((a, b) => {
    let order: number;
    if (pidSignal) {
      order = comparePriority(a, b) || compareExcess(a, b);
    } else {
      order = compareStatsAndExcess(a, b, policy) || comparePriority(a, b) || compareExcess(a, b);
    }
    return order || a.index - b.index;
  });
  return keys.map((k) => k.pod);
}

const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
/** system-cluster-critical; system-node-critical is 2000001000. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

/**
 * Upstream kubelettypes.IsCriticalPod: static pods (config source other than the API server),
 * mirror pods, and pods with priority >= 2000000000.
 * @example isCriticalPod({ spec: { containers: [], priority: 2000001000 } }) // true
 */
export function isCriticalPod(pod: V1Pod): boolean {
  const annotations = pod.metadata?.annotations ?? {};
  const source = annotations[CONFIG_SOURCE_ANNOTATION];
  if (source !== undefined && source !== 'api') return true;
  if (annotations[CONFIG_MIRROR_ANNOTATION] !== undefined) return true;
  const priority = pod.spec?.priority;
  return priority !== undefined && priority !== null && priority >= SYSTEM_CRITICAL_PRIORITY;
}

/**
 * The pod the eviction manager evicts from a ranking: the first one that is not critical (evictPod
 * refuses critical pods and the manager moves on), or null.
 * @example selectPodToEvict([criticalPod, otherPod]) // otherPod
 */
export function selectPodToEvict(ranked: readonly V1Pod[]): V1Pod | null {
  return ranked.find((pod) => !isCriticalPod(pod)) ?? null;
}
