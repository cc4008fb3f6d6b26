import { randomUUID } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { computePodQOS } from '../../agent/resources/qos.js';
import type { Clock } from '../../agent/clock/clock.js';
import { applyDefaultsInPlace } from './defaulting.js';
import { applyPatch, jsonEqual, type PatchType } from './patch.js';
import { apiVersionOf, resourceKey, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type FieldSelector, type LabelSelector } from './selectors.js';
import { ApiError, errors, type StatusCause } from './status.js';
import { ObjectStore, StoredObject } from './store.js';
import type { JsonObject, JsonValue, KubeObject, ObjectMeta } from './types.js';
import { cloneJson, isJsonObject } from './types.js';
import { podSpecUpdateCauses, validateKindSpecific, validateMetadata } from './validation.js';
import { allocateClusterIP, kubernetesService, validateService } from './services.js';
import { podCreateCauses } from './ephemeral-containers.js';

/**
 * REST semantics of kube-apiserver over the object store: create/get/list/update/patch/delete with
 * admission (defaulting, priority, namespace lifecycle), validation, optimistic concurrency, graceful
 * pod deletion, finalizers and paginated lists. Pure apart from the clock and uid/name randomness; the
 * HTTP layer only decodes requests and renders results.
 */
export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

export interface ListResult {
  items: StoredObject[];
  resourceVersion: number;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: StoredObject;
  /** False when the object still exists (graceful deletion or pending finalizers). */
  deleted: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The body was decoded for this call alone (the HTTP layer's): it may be used without a copy. */
  ownedBody?: boolean;
  /** Patch only: sees the patched object before anything else does (strict field validation). */
  checkPatched?: (patched: JsonValue) => void;
}

export const BUILTIN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];
export const SYSTEM_PRIORITY_CLASSES: ReadonlyArray<{ name: string; value: number; description: string }> = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];
/** Largest value a user-defined PriorityClass may have (HighestUserDefinablePriority). */
const HIGHEST_USER_PRIORITY = 1_000_000_000;

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_CACHED_SNAPSHOTS = 64;

function timestamp(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function qualifiedResource(type: ResourceType): { group: string; plural: string } {
  return { group: type.group, plural: type.plural };
}

interface Snapshot {
  rv: number;
  items: StoredObject[];
}

export class ApiRegistry {
  private readonly snapshots = new Map<string, Snapshot>();
  private snapshotSeq = 0;

  constructor(
    readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {}

  /** Creates the namespaces and system priority classes every cluster has. */
  bootstrap(): void {
    const nsType = this.type('', 'namespaces');
    for (const name of BUILTIN_NAMESPACES) {
      if (!this.store.get(resourceKey(nsType), '', name)) this.create(nsType, '', { metadata: { name } });
    }
    const pcType = this.type('scheduling.k8s.io', 'priorityclasses');
    for (const pc of SYSTEM_PRIORITY_CLASSES) {
      if (this.store.get(resourceKey(pcType), '', pc.name)) continue;
      this.insert(pcType, this.prepareCreate(pcType, '', { metadata: { name: pc.name }, value: pc.value, description: pc.description }, true));
    }
    const svcType = this.type('', 'services');
    if (!this.store.get(resourceKey(svcType), 'default', 'kubernetes')) this.create(svcType, 'default', kubernetesService());
  }

  type(group: string, plural: string): ResourceType {
    const type = RESOURCE_TYPES.find((t) => t.group === group && t.plural === plural);
    if (!type) throw new Error(`unknown resource ${plural}.${group}`);
    return type;
  }

  // ------------------------------------------------------------------ reads

  get(type: ResourceType, namespace: string, name: string): StoredObject {
    const stored = this.store.get(resourceKey(type), namespace, name);
    if (!stored) throw errors.notFound(qualifiedResource(type), name);
    return stored;
  }

  parseSelectors(type: ResourceType, options: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): {
    labels: LabelSelector;
    fields: FieldSelector;
  } {
    return {
      labels: parseLabelSelector(options.labelSelector),
      fields: parseFieldSelector(options.fieldSelector, type.fieldLabels, type.kind),
    };
  }

  list(type: ResourceType, namespace: string, options: ListOptions = {}): ListResult {
    const { labels, fields } = this.parseSelectors(type, options);
    const limit = options.limit !== undefined && options.limit > 0 ? Math.floor(options.limit) : 0;
    let snapshot: Snapshot;
    let start = 0;
    let token: { id: string; rv: number; start: number } | undefined;
    if (options.continue) {
      token = decodeContinue(options.continue);
      const cached = this.snapshots.get(token.id);
      if (!cached) {
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      snapshot = cached;
      start = token.start;
    } else {
      const items = this.store
        .list(resourceKey(type), type.namespaced ? namespace : undefined)
        .filter((s) => matchesLabels(labels, s.object.metadata.labels) && matchesFields(fields, s.object));
      snapshot = { rv: this.store.resourceVersion, items };
    }
    if (limit === 0 || start + limit >= snapshot.items.length) {
      if (token) this.snapshots.delete(token.id);
      return { items: snapshot.items.slice(start), resourceVersion: snapshot.rv };
    }
    const id = token?.id ?? this.rememberSnapshot(snapshot);
    const end = start + limit;
    return {
      items: snapshot.items.slice(start, end),
      resourceVersion: snapshot.rv,
      continue: encodeContinue({ id, rv: snapshot.rv, start: end }),
      remainingItemCount: snapshot.items.length - end,
    };
  }

  private rememberSnapshot(snapshot: Snapshot): string {
    const id = String(++this.snapshotSeq);
    this.snapshots.set(id, snapshot);
    if (this.snapshots.size > MAX_CACHED_SNAPSHOTS) {
      const oldest = this.snapshots.keys().next().value;
      if (oldest !== undefined) this.snapshots.delete(oldest);
    }
    return id;
  }

  // ------------------------------------------------------------------ create

  create(type: ResourceType, namespace: string, body: unknown, options: WriteOptions = {}): StoredObject {
    const prepared = this.prepareCreate(type, namespace, body, false, options.ownedBody === true);
    if (options.dryRun) return new StoredObject(prepared, this.store.resourceVersion);
    return this.insert(type, prepared);
  }

  private insert(type: ResourceType, prepared: KubeObject): StoredObject {
    return this.store.create(resourceKey(type), (rv) => withResourceVersion(prepared, rv));
  }

  private prepareCreate(type: ResourceType, namespace: string, body: unknown, system: boolean, owned = false): KubeObject {
    const object = decodeObject(type, body, owned);
    const meta = object.metadata;
    if (type.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
      this.admitNamespace(type, namespace, meta.name ?? meta.generateName ?? '');
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = this.generateName(type, namespace, meta.generateName);
    // Server-owned metadata is never taken from the client.
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.clock.now());
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    let prepared = applyDefaultsInPlace(object);
    if (type.kind === 'Pod') prepared = this.admitPod(prepared);
    if (type.kind === 'PriorityClass' && !system) this.admitPriorityClass(prepared);
    this.validate(type, prepared, type.kind === 'Pod' ? podCreateCauses(prepared) : []);
    if (type.kind === 'Service') this.allocateServiceIP(type, prepared);
    if (this.store.get(resourceKey(type), prepared.metadata.namespace ?? '', prepared.metadata.name ?? '')) {
      throw errors.alreadyExists(qualifiedResource(type), prepared.metadata.name ?? '');
    }
    return prepared;
  }

  private generateName(type: ResourceType, namespace: string, prefix: string): string {
    for (let attempt = 0; attempt < 8; attempt++) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
      const name = `${prefix}${suffix}`;
      if (!this.store.get(resourceKey(type), namespace, name)) return name;
    }
    throw errors.alreadyExists(qualifiedResource(type), `${prefix}*`);
  }

  /** NamespaceLifecycle admission: the namespace must exist and not be terminating. */
  private admitNamespace(type: ResourceType, namespace: string, name: string): void {
    const ns = this.store.get('namespaces', '', namespace);
    if (!ns) throw errors.notFound({ group: '', plural: 'namespaces' }, namespace);
    if (ns.object.metadata.deletionTimestamp) {
      throw errors.forbidden(qualifiedResource(type), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  /** Priority admission plus the status a new pod starts with (phase Pending, qosClass). */
  private admitPod(pod: KubeObject): KubeObject {
    const spec = pod['spec'] as JsonObject;
    const className = spec['priorityClassName'];
    let priority = 0;
    let preemption: JsonValue = 'PreemptLowerPriority';
    if (typeof className === 'string' && className !== '') {
      const pc = this.store.get('priorityclasses.scheduling.k8s.io', '', className);
      if (!pc) throw errors.forbidden({ group: '', plural: 'pods' }, pod.metadata.name ?? '', `no PriorityClass with name ${className} was found`);
      priority = Number(pc.object['value']);
      preemption = (pc.object['preemptionPolicy'] as JsonValue | undefined) ?? preemption;
    } else {
      const global = this.store.list('priorityclasses.scheduling.k8s.io').find((pc) => pc.object['globalDefault'] === true);
      if (global) {
        priority = Number(global.object['value']);
        preemption = (global.object['preemptionPolicy'] as JsonValue | undefined) ?? preemption;
        spec['priorityClassName'] = global.name;
      }
    }
    if (spec['priority'] !== undefined && spec['priority'] !== priority) {
      throw errors.forbidden(
        { group: '', plural: 'pods' },
        pod.metadata.name ?? '',
        `the integer value of priority (${String(spec['priority'])}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
      );
    }
    spec['priority'] = priority;
    if (spec['preemptionPolicy'] === undefined) spec['preemptionPolicy'] = preemption;
    pod['status'] = { phase: 'Pending', qosClass: computePodQOS(pod as unknown as V1Pod) };
    return pod;
  }

  private admitPriorityClass(pc: KubeObject): void {
    const name = pc.metadata.name ?? '';
    if (name.startsWith('system-')) {
      throw errors.forbidden({ group: 'scheduling.k8s.io', plural: 'priorityclasses' }, name, 'priority class names with \'system-\' prefix are reserved for system use only');
    }
    const value = pc['value'];
    if (typeof value === 'number' && value > HIGHEST_USER_PRIORITY) {
      throw errors.invalid('PriorityClass', name, 'scheduling.k8s.io', [
        { reason: 'FieldValueForbidden', message: `Forbidden: maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`, field: 'value' },
      ]);
    }
    if (pc['globalDefault'] === true) {
      const other = this.store.list('priorityclasses.scheduling.k8s.io').find((o) => o.object['globalDefault'] === true && o.name !== name);
      if (other) {
        throw errors.invalid('PriorityClass', name, 'scheduling.k8s.io', [
          { reason: 'FieldValueInvalid', message: `Invalid value: true: PriorityClass ${other.name} is already marked as default. Only one default can exist`, field: 'globalDefault' },
        ]);
      }
    }
  }

  /** A new service's cluster IP: the one asked for if free, else the next free one (422 when taken). */
  private allocateServiceIP(type: ResourceType, svc: KubeObject): void {
    const used = new Set<string>();
    for (const s of this.store.list(resourceKey(type), '')) {
      const ip = (s.object['spec'] as JsonObject | undefined)?.['clusterIP'];
      if (typeof ip === 'string' && ip !== 'None') used.add(ip);
    }
    const asked = (svc['spec'] as JsonObject)['clusterIP'];
    if (typeof asked === 'string' && asked !== '' && asked !== 'None' && used.has(asked)) {
      throw errors.invalid(type.kind, svc.metadata.name ?? '', type.group, [
        { reason: 'FieldValueInvalid', message: `Invalid value: "${asked}": provided IP is already allocated`, field: 'spec.clusterIPs' },
      ]);
    }
    allocateClusterIP(svc, used);
  }

  private validateMetadataOnly(type: ResourceType, object: KubeObject): void {
    const causes = validateMetadata(object, type.nameRule);
    if (causes.length > 0) throw errors.invalid(type.kind, object.metadata.name ?? '', type.group, causes);
  }

  private validate(type: ResourceType, object: KubeObject, extra: StatusCause[] = []): void {
    const kindCauses = type.kind === 'Service' ? validateService(object) : validateKindSpecific(object);
    const causes = [...validateMetadata(object, type.nameRule), ...kindCauses, ...extra];
    if (causes.length > 0) throw errors.invalid(type.kind, object.metadata.name ?? '', type.group, causes);
  }

  // ------------------------------------------------------------------ update and patch

  update(type: ResourceType, namespace: string, name: string, body: unknown, subresource?: 'status', options: WriteOptions = {}): StoredObject {
    const existing = this.store.get(resourceKey(type), namespace, name);
    if (!existing) {
      if (type.allowCreateOnUpdate && !subresource) {
        const object = decodeObject(type, body);
        if (object.metadata.name !== name) throw nameMismatch(object.metadata.name, name);
        return this.create(type, namespace, object, options);
      }
      throw errors.notFound(qualifiedResource(type), name);
    }
    const next = decodeObject(type, body);
    return this.commitUpdate(type, existing, next, subresource, options);
  }

  patch(
    type: ResourceType,
    namespace: string,
    name: string,
    patchType: PatchType,
    patch: JsonValue,
    subresource?: 'status',
    options: WriteOptions = {},
  ): StoredObject {
    const existing = this.get(type, namespace, name);
    const patched = applyPatch(patchType, existing.object as unknown as JsonObject, patch);
    options.checkPatched?.(patched);
    const next = decodeObject(type, patched);
    // A patch carries a resourceVersion precondition only when the patch itself names one.
    const patchRv = isJsonObject(patch) && isJsonObject(patch['metadata']) ? patch['metadata']['resourceVersion'] : undefined;
    if (patchType !== 'json' && patchRv === undefined) delete next.metadata.resourceVersion;
    if (patchType === 'json' && next.metadata.resourceVersion === existing.object.metadata.resourceVersion) {
      delete next.metadata.resourceVersion;
    }
    return this.commitUpdate(type, existing, next, subresource, options);
  }

  private commitUpdate(type: ResourceType, existing: StoredObject, nextIn: KubeObject, subresource: 'status' | undefined, options: WriteOptions): StoredObject {
    const old = existing.object;
    const name = old.metadata.name ?? '';
    const resource = qualifiedResource(type);
    if (nextIn.metadata.name !== undefined && nextIn.metadata.name !== name) throw nameMismatch(nextIn.metadata.name, name);
    if (type.namespaced && nextIn.metadata.namespace && nextIn.metadata.namespace !== old.metadata.namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const rv = nextIn.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw errors.staleResourceVersion(resource, name);
    if (nextIn.metadata.uid && nextIn.metadata.uid !== old.metadata.uid) {
      throw errors.conflict(resource, name, `Precondition failed: UID in precondition: ${nextIn.metadata.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
    }
    let next: KubeObject;
    if (subresource === 'status') {
      // The stored object without its old status (replaced next), so the status is not cloned for nothing.
      const { status: _replaced, ...kept } = old;
      next = cloneJson(kept) as KubeObject;
      next['status'] = nextIn['status'];
      if (nextIn.metadata.labels !== undefined) next.metadata.labels = nextIn.metadata.labels;
      if (nextIn.metadata.annotations !== undefined) next.metadata.annotations = nextIn.metadata.annotations;
    } else {
      next = nextIn;
      if (type.statusSubresource) {
        if (old['status'] === undefined) delete next['status'];
        else next['status'] = cloneJson(old['status']);
      }
    }
    // System-owned metadata survives every update.
    const meta = next.metadata;
    meta.name = name;
    if (type.namespaced) meta.namespace = old.metadata.namespace ?? '';
    else delete meta.namespace;
    meta.uid = old.metadata.uid ?? '';
    meta.creationTimestamp = old.metadata.creationTimestamp ?? '';
    copyOrDelete(meta, old.metadata, 'deletionTimestamp');
    copyOrDelete(meta, old.metadata, 'deletionGracePeriodSeconds');
    delete meta.generateName;
    if (old.metadata.generateName) meta.generateName = old.metadata.generateName;
    next = applyDefaultsInPlace(next);
    if (type.kind === 'Service') keepClusterIP(old, next);
    const defaultedMeta = next.metadata;
    if (subresource === 'status') {
      // A status write keeps the stored spec (cloned with the object above): like kube-apiserver's
      // ValidatePodStatusUpdate, only the metadata is validated again, and the generation stays.
      this.validateMetadataOnly(type, next);
    } else if (type.kind === 'Pod') {
      this.validate(type, next, podSpecUpdateCauses(old['spec'] as JsonObject, next['spec'] as JsonObject, jsonEqual));
    } else {
      this.validate(type, next);
    }
    if (old.metadata.deletionTimestamp) {
      const before = new Set(old.metadata.finalizers ?? []);
      const added = (defaultedMeta.finalizers ?? []).filter((f) => !before.has(f));
      if (added.length > 0) {
        throw errors.invalid(type.kind, name, type.group, [
          { reason: 'FieldValueForbidden', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`, field: 'metadata.finalizers' },
        ]);
      }
    }
    defaultedMeta.generation = old.metadata.generation ?? 1;
    if (subresource !== 'status' && !jsonEqual(withoutMetaAndStatus(old), withoutMetaAndStatus(next))) defaultedMeta.generation += 1;
    defaultedMeta.resourceVersion = old.metadata.resourceVersion ?? '';
    if (defaultedMeta.finalizers !== undefined && defaultedMeta.finalizers.length === 0) delete defaultedMeta.finalizers;
    if (jsonEqual(old as unknown as JsonValue, next as unknown as JsonValue)) return existing; // no-op writes do not bump resourceVersion
    if (options.dryRun) return new StoredObject(next, existing.rv);
    const key = resourceKey(type);
    const ns = old.metadata.namespace ?? '';
    if (this.finalizedAndDue(type, next)) {
      const removed = this.store.remove(key, ns, name, (newRv) => withResourceVersion(next, newRv));
      this.afterRemoval(type, ns);
      return removed;
    }
    return this.store.replace(key, ns, name, (newRv) => withResourceVersion(next, newRv));
  }

  /** An object being deleted goes once its finalizers are gone and no grace period is still running. */
  private finalizedAndDue(type: ResourceType, object: KubeObject): boolean {
    const meta = object.metadata;
    if (!meta.deletionTimestamp || (meta.finalizers?.length ?? 0) > 0) return false;
    return type.kind !== 'Pod' || (meta.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /**
   * pods/binding, as a scheduler posts it: sets spec.nodeName once (409 if already assigned) and marks
   * the pod PodScheduled=True.
   */
  bind(namespace: string, name: string, body: unknown): StoredObject {
    const pods = this.type('', 'pods');
    if (!isJsonObject(body) || (body['kind'] !== undefined && body['kind'] !== 'Binding')) {
      throw errors.badRequest('the body must be a Binding (kind "Binding", apiVersion "v1")');
    }
    const target = body['target'];
    const node = isJsonObject(target) ? target['name'] : undefined;
    if (typeof node !== 'string' || node === '') {
      throw errors.invalid('Binding', name, '', [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
    }
    if (isJsonObject(target) && target['kind'] !== undefined && target['kind'] !== 'Node' && target['kind'] !== '') {
      throw errors.invalid('Binding', name, '', [{ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(target['kind'])}: supported values: "Node"`, field: 'target.kind' }]);
    }
    const existing = this.get(pods, namespace, name);
    const pod = existing.object;
    if (pod.metadata.deletionTimestamp) throw errors.conflict({ group: '', plural: 'pods' }, name, 'pod is being deleted, cannot be assigned to a host');
    const spec = isJsonObject(pod['spec']) ? pod['spec'] : {};
    if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
      throw errors.conflict({ group: '', plural: 'pods' }, name, `pod ${name} is already assigned to node "${spec['nodeName']}"`);
    }
    const next = cloneJson(pod);
    (next['spec'] as JsonObject)['nodeName'] = node;
    const status = isJsonObject(next['status']) ? next['status'] : {};
    const conditions = Array.isArray(status['conditions']) ? status['conditions'].filter((c) => !(isJsonObject(c) && c['type'] === 'PodScheduled')) : [];
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(this.clock.now()) });
    next['status'] = { ...status, conditions };
    return this.store.replace(resourceKey(pods), namespace, name, (rv) => withResourceVersion(next, rv));
  }

  // ------------------------------------------------------------------ delete

  delete(type: ResourceType, namespace: string, name: string, options: DeleteOptions = {}, write: WriteOptions = {}): DeleteResult {
    const existing = this.get(type, namespace, name);
    const old = existing.object;
    const resource = qualifiedResource(type);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw errors.conflict(resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(
        resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`,
      );
    }
    if (options.gracePeriodSeconds !== undefined && (!Number.isInteger(options.gracePeriodSeconds))) {
      throw errors.badRequest('gracePeriodSeconds must be an integer');
    }
    if (write.dryRun) return { object: existing, deleted: false };
    const key = resourceKey(type);
    const grace = this.gracePeriod(type, old, options.gracePeriodSeconds);
    const hasFinalizers = (old.metadata.finalizers?.length ?? 0) > 0;
    if (grace > 0) {
      const current = old.metadata.deletionGracePeriodSeconds;
      if (old.metadata.deletionTimestamp && current !== undefined && current <= grace) return { object: existing, deleted: false };
      const next = cloneJson(old);
      next.metadata.deletionTimestamp = timestamp(this.clock.now() + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
      next.metadata.generation = (old.metadata.generation ?? 1) + 1;
      return { object: this.store.replace(key, namespace, name, (rv) => withResourceVersion(next, rv)), deleted: false };
    }
    if (type.kind === 'Namespace') return this.deleteNamespace(existing);
    if (hasFinalizers) {
      if (old.metadata.deletionTimestamp && old.metadata.deletionGracePeriodSeconds === 0) return { object: existing, deleted: false };
      const next = cloneJson(old);
      next.metadata.deletionTimestamp ??= timestamp(this.clock.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      if (type.kind === 'Pod' || old.metadata.deletionTimestamp === undefined) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
      return { object: this.store.replace(key, namespace, name, (rv) => withResourceVersion(next, rv)), deleted: false };
    }
    const removed = this.store.remove(key, namespace, name, (rv) => withResourceVersion(old, rv));
    this.afterRemoval(type, namespace);
    return { object: removed, deleted: true };
  }

  /**
   * Grace period of a delete (pods only; other kinds go at once): the request's, else the pod's
   * terminationGracePeriodSeconds; zero for unscheduled or finished pods, as upstream CheckGracefulDelete.
   */
  private gracePeriod(type: ResourceType, pod: KubeObject, requested: number | undefined): number {
    if (type.kind !== 'Pod') return 0;
    const spec = isJsonObject(pod['spec']) ? pod['spec'] : {};
    const status = isJsonObject(pod['status']) ? pod['status'] : {};
    let grace = requested ?? (typeof spec['terminationGracePeriodSeconds'] === 'number' ? spec['terminationGracePeriodSeconds'] : 30);
    if (grace < 0) grace = 1;
    if (!spec['nodeName'] || status['phase'] === 'Succeeded' || status['phase'] === 'Failed') grace = 0;
    return grace;
  }

  /**
   * Namespace deletion, with the namespace controller's work folded in: the namespace turns
   * Terminating, its content is deleted (pods gracefully), and it goes once it is empty.
   */
  private deleteNamespace(existing: StoredObject): DeleteResult {
    const name = existing.name;
    let current = existing;
    if (!existing.object.metadata.deletionTimestamp) {
      const next = cloneJson(existing.object);
      next.metadata.deletionTimestamp = timestamp(this.clock.now());
      next.metadata.deletionGracePeriodSeconds = 0;
      next['status'] = { ...(isJsonObject(next['status']) ? next['status'] : {}), phase: 'Terminating' };
      current = this.store.replace('namespaces', '', name, (rv) => withResourceVersion(next, rv));
    }
    for (const type of RESOURCE_TYPES) {
      if (!type.namespaced) continue;
      for (const obj of this.store.list(resourceKey(type), name)) {
        if (!obj.object.metadata.deletionTimestamp) this.delete(type, name, obj.name);
      }
    }
    const gone = !this.store.get('namespaces', '', name);
    return { object: gone ? current : (this.store.get('namespaces', '', name) ?? current), deleted: gone };
  }

  private afterRemoval(type: ResourceType, namespace: string): void {
    if (!type.namespaced) return;
    const ns = this.store.get('namespaces', '', namespace);
    if (!ns?.object.metadata.deletionTimestamp) return;
    const empty = RESOURCE_TYPES.every((t) => !t.namespaced || this.store.list(resourceKey(t), namespace).length === 0);
    if (empty) this.store.remove('namespaces', '', namespace, (rv) => withResourceVersion(ns.object, rv));
  }
}

function copyOrDelete(target: ObjectMeta, source: ObjectMeta, key: 'deletionTimestamp' | 'deletionGracePeriodSeconds'): void {
  if (source[key] === undefined) delete target[key];
  else (target as Record<string, unknown>)[key] = source[key];
}

function withoutMetaAndStatus(object: KubeObject): JsonObject {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest as JsonObject;
}

function withResourceVersion(object: KubeObject, rv: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
}

function nameMismatch(bodyName: string | undefined, urlName: string): ApiError {
  return errors.badRequest(`the name of the object (${bodyName ?? ''}) does not match the name on the URL (${urlName})`);
}

const OBJECT_FIELDS = ['metadata', 'spec', 'status'] as const;

/**
 * Turns a decoded request body into an object of `type`: the kind and apiVersion must be the
 * endpoint's (or absent), top-level fields must have the right JSON types, as kube's decoder insists.
 */
export function decodeObject(type: ResourceType, body: unknown, owned = false): KubeObject {
  const expected = apiVersionOf(type);
  if (!isJsonObject(body)) {
    throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: the body is not a JSON object`);
  }
  const kind = body['kind'];
  const apiVersion = body['apiVersion'];
  if (kind !== undefined && kind !== '' && kind !== type.kind) {
    const kindName = typeof kind === 'string' ? kind : JSON.stringify(kind);
    throw errors.badRequest(`${kindName} in version "${typeof apiVersion === 'string' ? apiVersion.split('/').pop() : type.version}" cannot be handled as a ${type.kind}: the kind in the data (${kindName}) does not match the expected kind (${type.kind})`);
  }
  if (apiVersion !== undefined && apiVersion !== '' && apiVersion !== expected) {
    throw errors.badRequest(`the API version in the data (${String(apiVersion)}) does not match the expected API version (${expected})`);
  }
  for (const field of OBJECT_FIELDS) {
    const value = body[field];
    if (value !== undefined && value !== null && !isJsonObject(value)) {
      throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ${type.kind}.${field} of type object`);
    }
  }
  const copy = owned ? body : cloneJson(body);
  const metadata = isJsonObject(copy['metadata']) ? copy['metadata'] : {};
  for (const field of ['name', 'generateName', 'namespace', 'resourceVersion', 'uid'] as const) {
    const value = metadata[field];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw errors.badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ObjectMeta.metadata.${field} of type string`);
    }
    if (value === null) delete metadata[field];
  }
  const out = { ...copy, apiVersion: expected, kind: type.kind, metadata } as KubeObject;
  for (const field of OBJECT_FIELDS) if (out[field] === null) delete out[field];
  return out;
}

function jsonTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function encodeContinue(token: { id: string; rv: number; start: number }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeContinue(raw: string): { id: string; rv: number; start: number } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (isJsonObject(parsed) && typeof parsed['id'] === 'string' && typeof parsed['rv'] === 'number' && typeof parsed['start'] === 'number') {
      return { id: parsed['id'], rv: parsed['rv'], start: parsed['start'] };
    }
  } catch {
    // fall through to the error below
  }
  throw errors.badRequest('continue key is not valid: the continue parameter cannot be decoded');
}

/** A service keeps its cluster IP across updates that leave it out (the IP is immutable once allocated). */
function keepClusterIP(old: KubeObject, next: KubeObject): void {
  const before = old['spec'];
  const after = next['spec'];
  if (!isJsonObject(before) || !isJsonObject(after)) return;
  for (const field of ['clusterIP', 'clusterIPs', 'ipFamilies', 'ipFamilyPolicy']) {
    if ((after[field] === undefined || after[field] === '') && before[field] !== undefined) after[field] = cloneJson(before[field]!);
  }
}
