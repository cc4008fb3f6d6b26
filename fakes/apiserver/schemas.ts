import type { ResourceType } from './resources.js';
import { isJsonObject, type JsonValue } from './types.js';

/**
 * The shape of each served kind, written once and used twice: rendered as OpenAPI v3 (openapi.ts,
 * for kubectl) and walked to find unknown fields (fieldValidation=Strict). Fields the mock has no
 * reason to describe in depth (volume sources, affinity, probes, status) are `open`: any content
 * below them is accepted, as if the schema preserved unknown fields there.
 */
export type FieldSchema =
  | { readonly t: 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'quantity' | 'open' }
  | { readonly t: 'object'; readonly props: Readonly<Record<string, FieldSchema>> }
  | { readonly t: 'map'; readonly values: FieldSchema }
  | { readonly t: 'list'; readonly items: FieldSchema; readonly mergeKey?: string; readonly strategy?: string };

const str: FieldSchema = { t: 'string' };
const int: FieldSchema = { t: 'integer' };
const bool: FieldSchema = { t: 'boolean' };
const open: FieldSchema = { t: 'open' };
const quantity: FieldSchema = { t: 'quantity' };
const intOrString: FieldSchema = { t: 'int-or-string' };
const obj = (props: Record<string, FieldSchema>): FieldSchema => ({ t: 'object', props });
const map = (values: FieldSchema): FieldSchema => ({ t: 'map', values });
const list = (items: FieldSchema): FieldSchema => ({ t: 'list', items });
/** A list strategic merge patch merges element by element, matched on `key`. */
const keyed = (key: string, items: FieldSchema): FieldSchema => ({ t: 'list', items, mergeKey: key, strategy: 'merge' });
const mergedList = (items: FieldSchema): FieldSchema => ({ t: 'list', items, strategy: 'merge' });
const strings = list(str);

const ownerReference = obj({
  apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool,
});

export const OBJECT_META = obj({
  name: str, generateName: str, namespace: str, selfLink: str, uid: str, resourceVersion: str, generation: int,
  creationTimestamp: str, deletionTimestamp: str, deletionGracePeriodSeconds: int,
  labels: map(str), annotations: map(str), ownerReferences: keyed('uid', ownerReference),
  finalizers: mergedList(str), managedFields: list(open),
});

const keyRef = obj({ name: str, key: str, optional: bool });
const envVar = obj({
  name: str, value: str,
  valueFrom: obj({ fieldRef: obj({ apiVersion: str, fieldPath: str }), resourceFieldRef: obj({ containerName: str, resource: str, divisor: quantity }), configMapKeyRef: keyRef, secretKeyRef: keyRef }),
});
const resources = obj({ limits: map(quantity), requests: map(quantity), claims: keyed('name', obj({ name: str, request: str })) });
const containerPort = obj({ name: str, containerPort: int, hostPort: int, protocol: str, hostIP: str });

/** The fields of a container, shared by init, app and ephemeral containers. */
const containerProps: Record<string, FieldSchema> = {
  name: str, image: str, command: strings, args: strings, workingDir: str,
  ports: keyed('containerPort', containerPort),
  envFrom: list(obj({ prefix: str, configMapRef: obj({ name: str, optional: bool }), secretRef: obj({ name: str, optional: bool }) })),
  env: keyed('name', envVar),
  resources, resizePolicy: list(obj({ resourceName: str, restartPolicy: str })), restartPolicy: str,
  volumeMounts: keyed('mountPath', obj({ name: str, readOnly: bool, recursiveReadOnly: str, mountPath: str, subPath: str, mountPropagation: str, subPathExpr: str })),
  volumeDevices: keyed('devicePath', obj({ name: str, devicePath: str })),
  livenessProbe: open, readinessProbe: open, startupProbe: open, lifecycle: open,
  terminationMessagePath: str, terminationMessagePolicy: str, imagePullPolicy: str, securityContext: open,
  stdin: bool, stdinOnce: bool, tty: bool,
};
const container = obj(containerProps);

const POD_SPEC = obj({
  volumes: keyed('name', open),
  initContainers: keyed('name', container),
  containers: keyed('name', container),
  ephemeralContainers: keyed('name', obj({ ...containerProps, targetContainerName: str })),
  restartPolicy: str, terminationGracePeriodSeconds: int, activeDeadlineSeconds: int, dnsPolicy: str,
  nodeSelector: map(str), serviceAccountName: str, serviceAccount: str, automountServiceAccountToken: bool,
  nodeName: str, hostNetwork: bool, hostPID: bool, hostIPC: bool, shareProcessNamespace: bool,
  securityContext: open, imagePullSecrets: keyed('name', obj({ name: str })), hostname: str, subdomain: str,
  affinity: open, schedulerName: str, tolerations: list(obj({ key: str, operator: str, value: str, effect: str, tolerationSeconds: int })),
  hostAliases: keyed('ip', obj({ ip: str, hostnames: strings })), priorityClassName: str, priority: int,
  dnsConfig: open, readinessGates: list(obj({ conditionType: str })), runtimeClassName: str, enableServiceLinks: bool,
  preemptionPolicy: str, overhead: map(quantity), topologySpreadConstraints: list(open), setHostnameAsFQDN: bool,
  os: obj({ name: str }), hostUsers: bool, schedulingGates: keyed('name', obj({ name: str })),
  resourceClaims: keyed('name', open), resources,
});

const condition = (extra: Record<string, FieldSchema> = {}): FieldSchema =>
  keyed('type', obj({ type: str, status: str, reason: str, message: str, lastTransitionTime: str, ...extra }));

const NODE_SPEC = obj({
  podCIDR: str, podCIDRs: mergedList(str), providerID: str, unschedulable: bool,
  taints: list(obj({ key: str, value: str, effect: str, timeAdded: str })), configSource: open, externalID: str,
});
const NODE_STATUS = obj({
  capacity: map(quantity), allocatable: map(quantity), phase: str,
  conditions: condition({ lastHeartbeatTime: str }), addresses: keyed('type', obj({ type: str, address: str })),
  daemonEndpoints: open, nodeInfo: open, images: list(open), volumesInUse: strings, volumesAttached: list(open),
  config: open, runtimeHandlers: list(open), features: open,
});

const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });

/** Top-level fields beside apiVersion, kind and metadata, per kind. */
const KIND_FIELDS: Readonly<Record<string, Record<string, FieldSchema>>> = {
  Pod: { spec: POD_SPEC, status: obj({ phase: str, conditions: condition({ lastProbeTime: str }), message: str, reason: str, nominatedNodeName: str, hostIP: str, hostIPs: keyed('ip', obj({ ip: str })), podIP: str, podIPs: keyed('ip', obj({ ip: str })), startTime: str, initContainerStatuses: list(open), containerStatuses: list(open), qosClass: str, ephemeralContainerStatuses: list(open), resize: str, resourceClaimStatuses: list(open) }) },
  Namespace: { spec: obj({ finalizers: strings }), status: obj({ phase: str, conditions: condition() }) },
  Node: { spec: NODE_SPEC, status: NODE_STATUS },
  ConfigMap: { data: map(str), binaryData: map(str), immutable: bool },
  Secret: { data: map(str), stringData: map(str), type: str, immutable: bool },
  Event: {
    involvedObject: objectReference, reason: str, message: str, source: obj({ component: str, host: str }),
    firstTimestamp: str, lastTimestamp: str, count: int, type: str, eventTime: str, series: open, action: str,
    related: objectReference, reportingComponent: str, reportingInstance: str,
  },
  PersistentVolume: { spec: open, status: open },
  Service: { spec: open, status: open },
  PersistentVolumeClaim: { spec: open, status: open },
  Lease: {
    spec: obj({
      holderIdentity: str, leaseDurationSeconds: int, acquireTime: str, renewTime: str, leaseTransitions: int,
      strategy: str, preferredHolder: str,
    }),
  },
  RuntimeClass: { handler: str, overhead: obj({ podFixed: map(quantity) }), scheduling: obj({ nodeSelector: map(str), tolerations: list(open) }) },
  PriorityClass: { value: int, globalDefault: bool, description: str, preemptionPolicy: str },
};

/** The schema of a whole object of the type's kind. */
export function kindSchema(type: ResourceType): FieldSchema & { t: 'object' } {
  return { t: 'object', props: { apiVersion: str, kind: str, metadata: OBJECT_META, ...(KIND_FIELDS[type.kind] ?? {}) } };
}

/**
 * Paths of the fields the schema does not know, in kube-apiserver's spelling (`spec.foo`,
 * `spec.containers[0].bar`), in document order.
 */
export function unknownFields(schema: FieldSchema, value: JsonValue | undefined, path = ''): string[] {
  if (value === undefined || value === null) return [];
  switch (schema.t) {
    case 'object': {
      if (!isJsonObject(value)) return [];
      const out: string[] = [];
      for (const [key, child] of Object.entries(value)) {
        const sub = path ? `${path}.${key}` : key;
        const field = schema.props[key];
        if (field === undefined) out.push(sub);
        else out.push(...unknownFields(field, child, sub));
      }
      return out;
    }
    case 'map':
      return isJsonObject(value) ? Object.entries(value).flatMap(([k, v]) => unknownFields(schema.values, v, `${path}.${k}`)) : [];
    case 'list':
      return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(schema.items, v, `${path}[${i}]`)) : [];
    default:
      return [];
  }
}

/** Paths of the top-level object's unknown fields, leaving out the server-side patch directives. */
export function unknownFieldsOf(type: ResourceType, value: JsonValue): string[] {
  return unknownFields(kindSchema(type), value).filter((p) => !/(^|\.)\$/.test(p));
}
