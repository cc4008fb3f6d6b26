/**
 * Which runtime objects belong to pods this kubelet no longer knows (upstream HandlePodCleanups: running
 * pods that are neither in the pod manager nor owned by a pod worker are killed). Only objects carrying
 * the kubelet's pod UID label count: sandboxes and containers some other client made on a shared runtime
 * are none of the kubelet's business. Pure: the caller lists the runtime and says which UIDs it knows.
 */
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../kuberuntime/labels.js';
import { stopContainerTimeoutSeconds } from '../lifecycle/kill-grace-period.js';

/** Upstream kills orphaned pods with a grace period override of 1 s (the stop call is then floored at 2 s). */
export const ORPHAN_KILL_GRACE_PERIOD_SECONDS = 1;

/** The grace period StopContainer gets for an orphaned container. */
export const ORPHAN_STOP_TIMEOUT_SECONDS = stopContainerTimeoutSeconds(ORPHAN_KILL_GRACE_PERIOD_SECONDS);

/** A CRI sandbox or container as ListPodSandbox/ListContainers return it. */
export interface RuntimeObject {
  readonly id: string;
  readonly labels?: Readonly<Record<string, string>> | null;
  /** CRI state name: SANDBOX_READY/SANDBOX_NOTREADY, CONTAINER_CREATED/RUNNING/EXITED/UNKNOWN. */
  readonly state?: string | number;
}

/** A container of an orphaned pod, named by the kubelet's container name label ('' when it has none). */
export interface OrphanedContainer {
  readonly id: string;
  readonly name: string;
}

export interface OrphanedPod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly sandboxIds: readonly string[];
  /** Every container of the pod, in listing order. */
  readonly containerIds: readonly string[];
  /** The containers that may still run (not exited): these are stopped before the sandboxes. */
  readonly runningContainers: readonly OrphanedContainer[];
}

function uidOf(o: RuntimeObject): string {
  return o.labels?.[POD_UID_LABEL] ?? '';
}

/** Who a pod is, as the kubelet's labels or its log directory name say. */
export interface PodIdentity {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
}

/**
 * Which unknown pods an agent may clean up. A kubelet owns its runtime, so by default all of them; an
 * agent sharing a runtime with a node's own kubelet (a conformance run against a named endpoint) must
 * narrow it to its own pods.
 */
export type OrphanScope = (pod: PodIdentity) => boolean;

/**
 * Groups the runtime's kubelet-labelled objects by pod UID and returns the pods `known` rejects and
 * `inScope` accepts, in the order their first object was listed (sandboxes first).
 * @example findOrphanedPods([{ id: 's1', labels: { 'io.kubernetes.pod.uid': 'gone' } }], [], () => false)[0]?.sandboxIds // ['s1']
 */
export function findOrphanedPods(
  sandboxes: readonly RuntimeObject[],
  containers: readonly RuntimeObject[],
  known: (uid: string) => boolean,
  inScope: OrphanScope = () => true,
): OrphanedPod[] {
  const pods = new Map<string, { uid: string; name: string; namespace: string; sandboxIds: string[]; containerIds: string[]; runningContainers: OrphanedContainer[] }>();
  const podOf = (o: RuntimeObject) => {
    const uid = uidOf(o);
    let pod = pods.get(uid);
    if (!pod) {
      pod = { uid, name: o.labels?.[POD_NAME_LABEL] ?? '', namespace: o.labels?.[POD_NAMESPACE_LABEL] ?? '', sandboxIds: [], containerIds: [], runningContainers: [] };
      pods.set(uid, pod);
    }
    return pod;
  };
  for (const s of sandboxes) {
    if (uidOf(s) === '' || known(uidOf(s))) continue;
    podOf(s).sandboxIds.push(s.id);
  }
  for (const c of containers) {
    if (uidOf(c) === '' || known(uidOf(c))) continue;
    const pod = podOf(c);
    pod.containerIds.push(c.id);
    if (!isExited(c.state)) pod.runningContainers.push({ id: c.id, name: c.labels?.[CONTAINER_NAME_LABEL] ?? '' });
  }
  return [...pods.values()].filter((pod) => inScope(pod));
}

function isExited(state: RuntimeObject['state']): boolean {
  // proto-loader may hand enums over as names or numbers (CONTAINER_EXITED = 2).
  return state === 'CONTAINER_EXITED' || state === 2;
}

/** Pod log directories are named `<namespace>_<name>_<uid>`; none of the three can hold an underscore. */
export function parseLogDirectoryName(dirName: string): PodIdentity | null {
  const parts = dirName.split('_');
  if (parts.length !== 3 || parts.some((p) => p === '')) return null;
  const [namespace, name, uid] = parts as [string, string, string];
  return { namespace, name, uid };
}

export interface OrphanedDirectories {
  /** UIDs whose `<root>/pods/<uid>` directory goes. */
  readonly podDirs: readonly string[];
  /** Names of the `<podLogsDir>/<namespace>_<name>_<uid>` directories that go. */
  readonly logDirs: readonly string[];
}

/**
 * Pod directories and pod log directories left by pods the kubelet does not know (upstream
 * cleanupOrphanedPodDirs and the container GC's pod log directory eviction): only once none of the
 * pod's sandboxes or containers remain in the runtime (`stillInRuntime`). Names that are not pod
 * directories are left alone; so are pod directories (named by UID alone) when a scope narrows the
 * cleanup, since they cannot say whose they are.
 */
export function findOrphanedDirectories(
  podDirNames: readonly string[],
  logDirNames: readonly string[],
  known: (uid: string) => boolean,
  stillInRuntime: (uid: string) => boolean,
  inScope?: OrphanScope,
): OrphanedDirectories {
  const gone = (uid: string): boolean => uid !== '' && !known(uid) && !stillInRuntime(uid);
  return {
    podDirs: inScope ? [] : podDirNames.filter((name) => !name.startsWith('.') && gone(name)),
    logDirs: logDirNames.filter((name) => {
      const pod = parseLogDirectoryName(name);
      return pod !== null && gone(pod.uid) && (inScope?.(pod) ?? true);
    }),
  };
}
