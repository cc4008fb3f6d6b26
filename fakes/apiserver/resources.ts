/**
 * The resource types the mock serves: what discovery advertises and what the REST layer needs to
 * know about each (scope, subresources, which name rule applies, whether PUT may create).
 */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'path-segment';

export interface ResourceType {
  /** API group; '' is the legacy core group served under /api. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Has a /status subresource whose writes touch only `status` (and the main resource ignores status). */
  readonly statusSubresource: boolean;
  readonly nameRule: NameRule;
  /** PUT to a missing object creates it (true for events and leases upstream, false for most). */
  readonly allowCreateOnUpdate: boolean;
  /** Field labels accepted in fieldSelector besides metadata.name and metadata.namespace. */
  readonly fieldLabels: readonly string[];
  readonly categories?: readonly string[];
}

export function apiVersionOf(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

/** Unique key of a resource type inside the store. */
export function resourceKey(type: Pick<ResourceType, 'group' | 'plural'>): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

const core = (t: Omit<ResourceType, 'group' | 'version'>): ResourceType => ({ group: '', version: 'v1', ...t });

export const RESOURCE_TYPES: readonly ResourceType[] = [
  core({
    plural: 'namespaces', singular: 'namespace', kind: 'Namespace', namespaced: false, shortNames: ['ns'],
    statusSubresource: true, nameRule: 'dns1123-label', allowCreateOnUpdate: false, fieldLabels: ['status.phase'],
  }),
  core({
    plural: 'nodes', singular: 'node', kind: 'Node', namespaced: false, shortNames: ['no'],
    statusSubresource: true, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false, fieldLabels: ['spec.unschedulable'],
  }),
  core({
    plural: 'pods', singular: 'pod', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'],
    statusSubresource: true, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false,
    fieldLabels: [
      'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
      'status.phase', 'status.podIP', 'status.nominatedNodeName',
    ],
  }),
  core({
    plural: 'events', singular: 'event', kind: 'Event', namespaced: true, shortNames: ['ev'],
    statusSubresource: false, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: true,
    fieldLabels: [
      'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
      'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
      'reason', 'reportingComponent', 'source', 'type',
    ],
  }),
  core({
    plural: 'configmaps', singular: 'configmap', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'],
    statusSubresource: false, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false, fieldLabels: [],
  }),
  core({
    plural: 'secrets', singular: 'secret', kind: 'Secret', namespaced: true, shortNames: [],
    statusSubresource: false, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false, fieldLabels: ['type'],
  }),
  core({
    plural: 'services', singular: 'service', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'],
    statusSubresource: true, nameRule: 'dns1123-label', allowCreateOnUpdate: false, fieldLabels: [],
  }),
  core({
    plural: 'persistentvolumes', singular: 'persistentvolume', kind: 'PersistentVolume', namespaced: false,
    shortNames: ['pv'], statusSubresource: true, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false, fieldLabels: [],
  }),
  core({
    plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', kind: 'PersistentVolumeClaim', namespaced: true,
    shortNames: ['pvc'], statusSubresource: true, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false, fieldLabels: [],
  }),
  {
    group: 'coordination.k8s.io', version: 'v1', plural: 'leases', singular: 'lease', kind: 'Lease', namespaced: true,
    shortNames: [], statusSubresource: false, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: true, fieldLabels: [],
  },
  {
    group: 'node.k8s.io', version: 'v1', plural: 'runtimeclasses', singular: 'runtimeclass', kind: 'RuntimeClass',
    namespaced: false, shortNames: [], statusSubresource: false, nameRule: 'dns1123-subdomain', allowCreateOnUpdate: false,
    fieldLabels: [],
  },
  {
    group: 'scheduling.k8s.io', version: 'v1', plural: 'priorityclasses', singular: 'priorityclass', kind: 'PriorityClass',
    namespaced: false, shortNames: ['pc'], statusSubresource: false, nameRule: 'dns1123-subdomain',
    allowCreateOnUpdate: false, fieldLabels: [],
  },
];

/** Looks a served resource up by group and plural (the URL form). */
export function findResourceType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function resourceTypeByKind(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind);
}

export function resourceGroups(): string[] {
  return [...new Set(RESOURCE_TYPES.map((t) => t.group).filter((g) => g !== ''))];
}
