import type { ResourceType } from './resources.js';
import type { StoredObject } from './store.js';
import type { JsonObject, JsonValue, KubeObject } from './types.js';
import { isJsonObject } from './types.js';

/**
 * Server-side printing (meta.k8s.io/v1 Table, requested with `Accept: application/json;as=Table`):
 * the columns kube-apiserver's printers give the served resources, so `kubectl get` (and `-o wide`,
 * `--watch`) shows what it shows against a real cluster.
 */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean;
type Printer = { columns: ColumnDefinition[]; row: (o: KubeObject, now: number) => Cell[] };

export function wantsTable(accept: string | null): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => /;\s*as=Table/i.test(part) && /g=meta\.k8s\.io/i.test(part));
}

const col = (name: string, description: string, priority = 0, type: ColumnDefinition['type'] = 'string', format = ''): ColumnDefinition => ({
  name, type, format, description, priority,
});
const NAME = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

/** k8s.io/apimachinery HumanDuration: the short ages kubectl prints. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

function since(ts: JsonValue | undefined, now: number): string {
  if (typeof ts !== 'string' || ts === '') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

function o(value: JsonValue | undefined): JsonObject {
  return isJsonObject(value) ? value : {};
}

function arr(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function str(value: JsonValue | undefined, fallback = ''): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}

function podStatusCells(pod: KubeObject, now: number): { ready: string; reason: string; restarts: string } {
  const spec = o(pod['spec']);
  const status = o(pod['status']);
  let reason = str(status['phase']);
  if (status['reason']) reason = str(status['reason']);
  const containers = arr(spec['containers']);
  let total = containers.length;
  let ready = 0;
  let restarts = 0;
  let lastRestart = 0;
  const noteRestart = (cs: JsonObject): void => {
    restarts += Number(cs['restartCount'] ?? 0);
    const finished = str(o(o(cs['lastState'])['terminated'])['finishedAt']);
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  };
  const inits = arr(spec['initContainers']).map(o);
  const initStatuses = arr(status['initContainerStatuses']).map(o);
  const sidecars = new Set(inits.filter((c) => c['restartPolicy'] === 'Always').map((c) => str(c['name'])));
  total += sidecars.size;
  let initializing = false;
  initStatuses.forEach((cs, i) => {
    noteRestart(cs);
    if (initializing) return;
    const state = o(cs['state']);
    const terminated = o(state['terminated']);
    const waiting = o(state['waiting']);
    const name = str(cs['name']);
    if (sidecars.has(name) && cs['started'] === true) {
      if (cs['ready'] === true) ready++;
      return;
    }
    if (state['terminated'] && terminated['exitCode'] === 0) return;
    initializing = true;
    if (state['terminated']) {
      reason = terminated['reason']
        ? `Init:${str(terminated['reason'])}`
        : terminated['signal']
          ? `Init:Signal:${str(terminated['signal'])}`
          : `Init:ExitCode:${str(terminated['exitCode'])}`;
    } else if (state['waiting'] && waiting['reason'] && waiting['reason'] !== 'PodInitializing') {
      reason = `Init:${str(waiting['reason'])}`;
    } else {
      reason = `Init:${i}/${inits.length}`;
    }
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses = arr(status['containerStatuses']).map(o);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i] as JsonObject;
      noteRestart(cs);
      const state = o(cs['state']);
      const waiting = o(state['waiting']);
      const terminated = o(state['terminated']);
      if (state['waiting'] && waiting['reason']) reason = str(waiting['reason']);
      else if (state['terminated'] && terminated['reason']) reason = str(terminated['reason']);
      else if (state['terminated']) reason = terminated['signal'] ? `Signal:${str(terminated['signal'])}` : `ExitCode:${str(terminated['exitCode'])}`;
      else if (cs['ready'] === true && state['running']) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const readyCondition = arr(status['conditions']).map(o).find((c) => c['type'] === 'Ready');
      reason = readyCondition?.['status'] === 'True' ? 'Running' : 'NotReady';
    }
  } else {
    for (const cs of arr(status['containerStatuses']).map(o)) noteRestart(cs);
  }
  if (pod.metadata.deletionTimestamp) reason = status['reason'] === 'NodeLost' ? 'Unknown' : 'Terminating';
  const restartText = lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, reason, restarts: restartText };
}

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [
      NAME,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE,
      col('IP', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
      col('Node', "NodeName is a request to schedule this pod onto a specific node.", 1),
      col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
      col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
    ],
    row: (pod, now) => {
      const { ready, reason, restarts } = podStatusCells(pod, now);
      const spec = o(pod['spec']);
      const status = o(pod['status']);
      const gates = arr(spec['readinessGates']).map(o);
      const conditions = arr(status['conditions']).map(o);
      const gateText = gates.length === 0
        ? '<none>'
        : `${gates.filter((g) => conditions.some((c) => c['type'] === g['conditionType'] && c['status'] === 'True')).length}/${gates.length}`;
      return [
        pod.metadata.name ?? '', ready, reason, restarts, since(pod.metadata.creationTimestamp, now),
        str(status['podIP'], '<none>') || '<none>', str(spec['nodeName'], '<none>') || '<none>',
        str(status['nominatedNodeName'], '<none>') || '<none>', gateText,
      ];
    },
  },
  Node: {
    columns: [
      NAME,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of addresses reachable to the node.', 1),
      col('External-IP', 'List of addresses reachable to the node.', 1),
      col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
      col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
      col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
    ],
    row: (node, now) => {
      const status = o(node['status']);
      const ready = arr(status['conditions']).map(o).find((c) => c['type'] === 'Ready');
      const states: string[] = [];
      if (ready) states.push(ready['status'] === 'True' ? 'Ready' : 'NotReady');
      else states.push('Unknown');
      if (o(node['spec'])['unschedulable'] === true) states.push('SchedulingDisabled');
      const roles = new Set<string>();
      for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
        if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
        else if (k === 'kubernetes.io/role' && v) roles.add(v);
      }
      const addresses = arr(status['addresses']).map(o);
      const address = (type: string): string => str(addresses.find((a) => a['type'] === type)?.['address'], '<none>');
      const info = o(status['nodeInfo']);
      return [
        node.metadata.name ?? '', states.join(','), roles.size ? [...roles].sort().join(',') : '<none>',
        since(node.metadata.creationTimestamp, now), str(info['kubeletVersion']),
        address('InternalIP'), address('ExternalIP'), str(info['osImage'], '<unknown>') || '<unknown>',
        str(info['kernelVersion'], '<unknown>') || '<unknown>', str(info['containerRuntimeVersion'], '<unknown>') || '<unknown>',
      ];
    },
  },
  Event: {
    columns: [
      col('Last Seen', 'Time when this Event was last seen'),
      col('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
      col('Reason', 'This should be a short, machine understandable string that gives the reason for this event being generated.'),
      col('Object', 'The object this Event is about.'),
      col('Subobject', 'The subobject this Event is about.', 1),
      col('Source', 'The component reporting this event.', 1),
      col('Message', 'A human-readable description of the status of this operation.'),
      col('First Seen', 'The first time this Event was seen.', 1),
      col('Count', 'The number of times this event has occurred.', 1),
      { ...NAME, priority: 1 },
    ],
    row: (ev, now) => {
      const involved = o(ev['involvedObject']);
      const source = o(ev['source']);
      const series = o(ev['series']);
      const last = str(series['lastObservedTime']) || str(ev['lastTimestamp']) || str(ev['eventTime']) || (ev.metadata.creationTimestamp ?? '');
      const first = str(ev['firstTimestamp']) || str(ev['eventTime']) || (ev.metadata.creationTimestamp ?? '');
      const component = str(source['component']) || str(ev['reportingComponent']);
      const host = str(source['host']) || str(ev['reportingInstance']);
      return [
        since(last, now), str(ev['type']), str(ev['reason']),
        `${str(involved['kind']).toLowerCase()}/${str(involved['name'])}`, str(involved['fieldPath']),
        host ? `${component}, ${host}` : component, str(ev['message']).trim(), since(first, now),
        Number(series['count'] ?? ev['count'] ?? 1), ev.metadata.name ?? '',
      ];
    },
  },
  Lease: {
    columns: [NAME, col('Holder', 'HolderIdentity contains the identity of the holder of a current lease.'), AGE],
    row: (l, now) => [l.metadata.name ?? '', str(o(l['spec'])['holderIdentity']), since(l.metadata.creationTimestamp, now)],
  },
  Namespace: {
    columns: [NAME, col('Status', 'The status of the namespace'), AGE],
    row: (n, now) => [n.metadata.name ?? '', str(o(n['status'])['phase']), since(n.metadata.creationTimestamp, now)],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'Data contains the configuration data.', 0, 'integer'), AGE],
    row: (c, now) => [c.metadata.name ?? '', Object.keys(o(c['data'])).length + Object.keys(o(c['binaryData'])).length, since(c.metadata.creationTimestamp, now)],
  },
  Secret: {
    columns: [NAME, col('Type', 'The type of the secret'), col('Data', 'The number of entries in the secret', 0, 'integer'), AGE],
    row: (s, now) => [s.metadata.name ?? '', str(s['type']), Object.keys(o(s['data'])).length, since(s.metadata.creationTimestamp, now)],
  },
  PersistentVolume: {
    columns: [
      NAME, col('Capacity', 'capacity is the description of the persistent volume\'s resources and capacity.'),
      col('Access Modes', 'accessModes contains all ways the volume can be mounted.'),
      col('Reclaim Policy', 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
      col('Status', 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
      col('Claim', 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
      col('StorageClass', 'storageClassName is the name of StorageClass to which this persistent volume belongs.'),
      AGE,
    ],
    row: (pv, now) => {
      const spec = o(pv['spec']);
      const claim = o(spec['claimRef']);
      return [
        pv.metadata.name ?? '', str(o(spec['capacity'])['storage']), accessModes(spec['accessModes']),
        str(spec['persistentVolumeReclaimPolicy']), str(o(pv['status'])['phase']),
        claim['name'] ? `${str(claim['namespace'])}/${str(claim['name'])}` : '', str(spec['storageClassName']),
        since(pv.metadata.creationTimestamp, now),
      ];
    },
  },
  PersistentVolumeClaim: {
    columns: [
      NAME, col('Status', 'phase represents the current phase of PersistentVolumeClaim.'),
      col('Volume', 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
      col('Capacity', 'capacity represents the actual resources of the underlying volume.'),
      col('Access Modes', 'accessModes contains the desired access modes the volume should have.'),
      col('StorageClass', 'storageClassName is the name of the StorageClass required by the claim.'), AGE,
    ],
    row: (pvc, now) => {
      const spec = o(pvc['spec']);
      const status = o(pvc['status']);
      return [
        pvc.metadata.name ?? '', str(status['phase']), str(spec['volumeName']), str(o(status['capacity'])['storage']),
        accessModes(status['accessModes']), str(spec['storageClassName']), since(pvc.metadata.creationTimestamp, now),
      ];
    },
  },
  RuntimeClass: {
    columns: [NAME, col('Handler', 'Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'), AGE],
    row: (r, now) => [r.metadata.name ?? '', str(r['handler']), since(r.metadata.creationTimestamp, now)],
  },
  PriorityClass: {
    columns: [
      NAME, col('Value', 'value represents the integer value of this priority class.', 0, 'integer'),
      col('Global-Default', 'globalDefault specifies whether this PriorityClass should be considered as the default priority.', 0, 'boolean'),
      AGE,
      col('PreemptionPolicy', 'preemptionPolicy is the Policy for preempting pods with lower priority.'),
    ],
    row: (p, now) => [p.metadata.name ?? '', Number(p['value'] ?? 0), p['globalDefault'] === true, since(p.metadata.creationTimestamp, now), str(p['preemptionPolicy'])],
  },
};

function accessModes(value: JsonValue | undefined): string {
  const short: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  return arr(value).map((m) => short[str(m)] ?? str(m)).join(',');
}

const DEFAULT_PRINTER: Printer = {
  columns: [NAME, AGE],
  row: (obj, now) => [obj.metadata.name ?? '', since(obj.metadata.creationTimestamp, now)],
};

function printerFor(type: ResourceType): Printer {
  return PRINTERS[type.kind] ?? DEFAULT_PRINTER;
}

function rowObject(stored: StoredObject, include: IncludeObject): JsonValue | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return stored.object as unknown as JsonValue;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: stored.object.metadata as unknown as JsonValue };
}

function row(type: ResourceType, stored: StoredObject, include: IncludeObject, now: number): JsonObject {
  const r: JsonObject = { cells: printerFor(type).row(stored.object, now) };
  const obj = rowObject(stored, include);
  if (obj !== undefined) r['object'] = obj;
  return r;
}

export function tableForList(
  type: ResourceType,
  list: { items: StoredObject[]; resourceVersion: number; continue?: string; remainingItemCount?: number },
  include: IncludeObject,
  now: number,
): JsonObject {
  const metadata: JsonObject = { resourceVersion: String(list.resourceVersion) };
  if (list.continue) metadata['continue'] = list.continue;
  if (list.remainingItemCount !== undefined) metadata['remainingItemCount'] = list.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: printerFor(type).columns as unknown as JsonValue,
    rows: list.items.map((s) => row(type, s, include, now)),
  };
}

/** Watch objects as one-row Tables; only the first carries the column definitions, as upstream. */
export function tableEncoderFor(type: ResourceType, include: IncludeObject, now: () => number): (stored: StoredObject, index: number) => string {
  let first = true;
  return (stored) => {
    const table = {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: String(stored.rv) },
      columnDefinitions: first ? printerFor(type).columns : null,
      rows: [row(type, stored, include, now())],
    };
    first = false;
    return JSON.stringify(table);
  };
}
