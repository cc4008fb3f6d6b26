import { createHash } from 'node:crypto';
import { apiVersionOf, RESOURCE_TYPES, type ResourceType } from './resources.js';
import { kindSchema, type FieldSchema } from './schemas.js';

/**
 * OpenAPI v3 documents generated from RESOURCE_TYPES and schemas.ts: an index at /openapi/v3 and one
 * document per group-version. They declare what kubectl reads: each operation's
 * x-kubernetes-group-version-kind and its `fieldValidation` query parameter (so `kubectl apply/create`
 * leaves validation to the server), the patch media types, and the kinds' schemas with the merge keys
 * its strategic merge patches follow.
 */
export interface GroupVersionDocument {
  readonly json: string;
  readonly hash: string;
}

/** 'api/v1' or 'apis/<group>/<version>': the key in the index and the tail of the document's URL. */
export function groupVersionPath(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `apis/${type.group}/${type.version}` : `api/${type.version}`;
}

function schemaName(type: ResourceType): string {
  return `io.k8s.harness.${type.group === '' ? 'core' : type.group}.${type.version}.${type.kind}`;
}

function render(schema: FieldSchema): Record<string, unknown> {
  switch (schema.t) {
    case 'object':
      return { type: 'object', properties: Object.fromEntries(Object.entries(schema.props).map(([k, v]) => [k, render(v)])) };
    case 'map':
      return { type: 'object', additionalProperties: render(schema.values) };
    case 'list': {
      const out: Record<string, unknown> = { type: 'array', items: render(schema.items) };
      if (schema.mergeKey) out['x-kubernetes-patch-merge-key'] = schema.mergeKey;
      if (schema.strategy) out['x-kubernetes-patch-strategy'] = schema.strategy;
      return out;
    }
    case 'int-or-string':
      return { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
    case 'quantity':
      return { anyOf: [{ type: 'number' }, { type: 'string' }] };
    case 'open':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      return { type: schema.t };
  }
}

const WRITE_PARAMETERS = [
  { name: 'dryRun', in: 'query', description: 'All: the request is processed but nothing is stored', schema: { type: 'string' } },
  { name: 'fieldManager', in: 'query', description: 'name of the actor making the change', schema: { type: 'string' } },
  {
    name: 'fieldValidation',
    in: 'query',
    description: 'Ignore or Warn: unknown fields are kept as sent (this server does not warn); Strict: a request with unknown fields fails with a Status naming them',
    schema: { type: 'string' },
  },
];

const JSON_MEDIA = ['application/json'];
const PATCH_MEDIA = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function operations(type: ResourceType): Record<string, unknown> {
  const ref = { $ref: `#/components/schemas/${schemaName(type)}` };
  const gvk = { group: type.group, version: type.version, kind: type.kind };
  const body = (media: string[], schema: object): object => ({ required: true, content: Object.fromEntries(media.map((m) => [m, { schema }])) });
  const ok = (schema: object): object => ({ '200': { description: 'OK', content: { 'application/json': { schema } } } });
  const op = (action: string, id: string, extra: object): object => ({
    operationId: `${id}${type.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  const base = `/${groupVersionPath(type)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
  const pathParams = (withName: boolean): object[] => [
    ...(withName ? [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }] : []),
    ...(type.namespaced ? [{ name: 'namespace', in: 'path', required: true, schema: { type: 'string' } }] : []),
  ];
  const item = (prefix: string): object => ({
    parameters: pathParams(true),
    get: op('get', `${prefix}read`, { responses: ok(ref) }),
    put: op('put', `${prefix}replace`, { parameters: WRITE_PARAMETERS, requestBody: body(JSON_MEDIA, ref), responses: ok(ref) }),
    patch: op('patch', `${prefix}patch`, { parameters: WRITE_PARAMETERS, requestBody: body(PATCH_MEDIA, { type: 'object' }), responses: ok(ref) }),
  });
  const paths: Record<string, unknown> = {
    [base]: {
      parameters: pathParams(false),
      get: op('list', 'list', { responses: ok({ type: 'object' }) }),
      post: op('post', 'create', { parameters: WRITE_PARAMETERS, requestBody: body(JSON_MEDIA, ref), responses: { '201': { description: 'Created', content: { 'application/json': { schema: ref } } } } }),
      delete: op('deletecollection', 'deleteCollection', { responses: ok({ type: 'object' }) }),
    },
    [`${base}/{name}`]: { ...item(''), delete: op('delete', 'delete', { responses: ok(ref) }) },
  };
  if (type.statusSubresource) paths[`${base}/{name}/status`] = item('status');
  return paths;
}

function buildDocument(types: readonly ResourceType[]): string {
  const first = types[0] as ResourceType;
  const doc = {
    openapi: '3.0.0',
    info: { title: 'kubelet-harness mock API server', version: apiVersionOf(first) },
    paths: Object.assign({}, ...types.map(operations)) as Record<string, unknown>,
    components: {
      schemas: Object.fromEntries(
        types.map((t) => [
          schemaName(t),
          { ...render(kindSchema(t)), 'x-kubernetes-group-version-kind': [{ group: t.group, version: t.version, kind: t.kind }] },
        ]),
      ),
    },
  };
  return JSON.stringify(doc);
}

/** Builds every group-version document once; they depend only on RESOURCE_TYPES. */
export class OpenApiDocuments {
  private readonly byPath = new Map<string, GroupVersionDocument>();

  constructor() {
    const groups = new Map<string, ResourceType[]>();
    for (const t of RESOURCE_TYPES) groups.set(groupVersionPath(t), [...(groups.get(groupVersionPath(t)) ?? []), t]);
    for (const [path, types] of groups) {
      const json = buildDocument(types);
      this.byPath.set(path, { json, hash: createHash('sha512').update(json).digest('hex').slice(0, 64).toUpperCase() });
    }
  }

  /** The /openapi/v3 index: each group-version with the URL of its document (the hash makes it cacheable). */
  index(): object {
    return {
      paths: Object.fromEntries([...this.byPath].map(([path, d]) => [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${d.hash}` }])),
    };
  }

  /** The document for 'api/v1' or 'apis/<group>/<version>', if served. */
  document(path: string): GroupVersionDocument | undefined {
    return this.byPath.get(path);
  }
}
