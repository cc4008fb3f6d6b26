import { http, type RequestHandler } from 'msw';
import type { Clock } from '../../agent/clock/clock.js';
import type { Journal } from '../journal/journal.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.js';
import { writeEphemeralContainers } from './ephemeral-containers.js';
import { dropConnection, jsonText, requestBytes, statusResponse, streamed } from './http-adapter.js';
import type { FaultInjector } from './faults.js';
import { OpenApiDocuments } from './openapi.js';
import { patchTypeOf } from './patch.js';
import { servePodExec } from './pod-exec.js';
import { servePodLog } from './pod-log.js';
import { writePodResize } from './pod-resize.js';
import { servePodSubresource } from './pod-subresource.js';
import type { ApiRegistry, DeleteOptions } from './registry.js';
import { apiVersionOf, findResourceType, resourceKey, type ResourceType } from './resources.js';
import { unknownFieldsOf } from './schemas.js';
import { ApiError, errors } from './status.js';
import type { StoredObject } from './store.js';
import { tableEncoderFor, tableForList, wantsTable, type IncludeObject } from './table.js';
import { isJsonObject, type JsonValue } from './types.js';
import { WatchSession } from './watch.js';
import { createWatchStream } from './watch-stream.js';

/**
 * The mock API server's routes as msw request handlers: authentication and fault injection first
 * (they fall through when they have nothing to say), then discovery, then the REST resources.
 */
export interface ActiveWatch {
  readonly resource: ResourceType;
  readonly session: WatchSession;
  /** Cuts the connection mid-stream. */
  drop(): void;
}

export interface HandlerContext {
  registry: ApiRegistry;
  clock: Clock;
  faults: FaultInjector;
  watches: Set<ActiveWatch>;
  token?: string;
  journal?: Journal;
  bookmarkIntervalMs: number;
  watchMaxPendingBytes: number;
  serverAddress: () => string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function json(body: unknown, status = 200): Response {
  return jsonText(JSON.stringify(body), status, JSON_HEADERS);
}

function rawJson(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return jsonText(body, status, { ...JSON_HEADERS, ...headers });
}

const UNAUTHENTICATED_PATHS = new Set(['/healthz', '/readyz', '/livez']);

function isWatchRequest(url: URL): boolean {
  const w = url.searchParams.get('watch');
  return w === 'true' || w === '1' || url.pathname.includes('/watch/');
}

/** The request's path; msw predicates get the Request, and parsing its URL once per predicate is cheap. */
function pathOf(request: Request): string {
  const url = request.url;
  const from = url.indexOf('/', url.indexOf('//') + 2);
  const query = url.indexOf('?', from);
  return query < 0 ? url.slice(from) : url.slice(from, query);
}

const OPENAPI_V3_DOCUMENT = /^\/openapi\/v3\/(.+)$/;
const DISCOVERY_GROUP = /^\/apis\/([^/]+)$/;
const DISCOVERY_GROUP_VERSION = /^\/apis\/([^/]+)\/([^/]+)$/;
const GROUP_RESOURCES = /^\/apis\/([^/]+)\/([^/]+)\/(.+)$/;

/**
 * Routes use msw's predicate form (a function of the request) rather than path patterns: a pattern
 * is compiled on every match attempt, which made each request pay for every handler before its own.
 * The busiest routes (resources) come first; auth and faults come before them only when enabled.
 */
export function createHandlers(ctx: HandlerContext): RequestHandler[] {
  const openapi = new OpenApiDocuments();
  const handlers: RequestHandler[] = [
    http.all(
      () => ctx.token !== undefined || ctx.faults.active,
      async ({ request }) => {
        const path = pathOf(request);
        if (ctx.token && !UNAUTHENTICATED_PATHS.has(path) && request.headers.get('authorization') !== `Bearer ${ctx.token}`) {
          return statusResponse(errors.unauthorized());
        }
        if (!ctx.faults.active) return undefined;
        const decision = ctx.faults.decide(request.method, path, isWatchRequest(new URL(request.url)));
        if (decision.latencyMs > 0) await ctx.clock.sleep(decision.latencyMs);
        if (decision.drop) return dropConnection();
        if (decision.error) return statusResponse(decision.error);
        return undefined;
      },
    ),
    http.all(
      ({ request }) => pathOf(request).startsWith('/api/v1/'),
      ({ request }) => serve(ctx, request, '', 'v1', '/api/v1/'),
    ),
    http.all(
      ({ request }) => GROUP_RESOURCES.test(pathOf(request)),
      ({ request }) => {
        const [, group = '', version = ''] = GROUP_RESOURCES.exec(pathOf(request)) ?? [];
        return serve(ctx, request, group, version, `/apis/${group}/${version}/`);
      },
    ),
    http.get(
      ({ request }) => {
        const path = pathOf(request);
        return path === '/healthz' || path === '/readyz' || path === '/livez';
      },
      () => new Response('ok', { headers: { 'content-type': 'text/plain' } }),
    ),
    http.get(({ request }) => pathOf(request) === '/version', () => json(SERVER_VERSION)),
    http.get(({ request }) => pathOf(request) === '/api', () => json(apiVersions(ctx.serverAddress()))),
    http.get(({ request }) => pathOf(request) === '/apis', () => json(apiGroupList())),
    http.get(({ request }) => pathOf(request) === '/openapi/v3', () => json(openapi.index())),
    http.get(
      ({ request }) => OPENAPI_V3_DOCUMENT.test(pathOf(request)),
      ({ request }) => {
        const doc = openapi.document(OPENAPI_V3_DOCUMENT.exec(pathOf(request))?.[1] ?? '');
        if (!doc) return statusResponse(errors.notFoundPath());
        // Like kube-apiserver: a request naming the current hash may be cached for good.
        const immutable = new URL(request.url).searchParams.get('hash') === doc.hash;
        return rawJson(doc.json, 200, immutable ? { 'cache-control': 'public, immutable', etag: `"${doc.hash}"` } : { etag: `"${doc.hash}"` });
      },
    ),
    http.get(({ request }) => pathOf(request) === '/api/v1', () => json(apiResourceList('', 'v1'))),
    http.get(
      ({ request }) => DISCOVERY_GROUP.test(pathOf(request)),
      ({ request }) => {
        const doc = apiGroup(DISCOVERY_GROUP.exec(pathOf(request))?.[1] ?? '');
        return doc ? json(doc) : statusResponse(errors.notFoundPath());
      },
    ),
    http.get(
      ({ request }) => DISCOVERY_GROUP_VERSION.test(pathOf(request)),
      ({ request }) => {
        const [, group = '', version = ''] = DISCOVERY_GROUP_VERSION.exec(pathOf(request)) ?? [];
        const doc = apiResourceList(group, version);
        return doc ? json(doc) : statusResponse(errors.notFoundPath());
      },
    ),
  ];
  return handlers;
}

interface Target {
  type: ResourceType;
  namespace: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

/** Maps the path below /api/v1 or /apis/<g>/<v> to a resource, namespace, name and subresource. */
export function parseResourcePath(group: string, version: string, rest: string[]): Target {
  let segments = rest.filter((s) => s !== '').map(decodeURIComponent);
  let watchPath = false;
  if (segments[0] === 'watch') {
    watchPath = true;
    segments = segments.slice(1);
  }
  const nsScoped =
    segments[0] === 'namespaces' && segments.length >= 3 && findResourceType(group, version, segments[2] as string)?.namespaced === true;
  const [plural, name, subresource, ...extra] = nsScoped ? segments.slice(2) : segments;
  const type = plural ? findResourceType(group, version, plural) : undefined;
  if (!type || extra.length > 0 || (type.namespaced && !nsScoped && name !== undefined)) throw errors.notFoundPath();
  const target: Target = { type, namespace: nsScoped ? (segments[1] as string) : '', watchPath };
  if (name !== undefined) target.name = name;
  if (subresource !== undefined) target.subresource = subresource;
  return target;
}

async function serve(ctx: HandlerContext, request: Request, group: string, version: string, prefix: string): Promise<Response> {
  try {
    const url = new URL(request.url);
    const rest = url.pathname.slice(prefix.length).split('/');
    if (group === '' && rest.length === 3 && rest[0] === 'namespaces' && rest[2] === 'bindings') {
      return await createBinding(ctx, request, decodeURIComponent(rest[1] ?? ''), undefined);
    }
    const target = parseResourcePath(group, version, rest);
    return await dispatch(ctx, request, url, target);
  } catch (err) {
    if (err instanceof ApiError) return statusResponse(err);
    throw err;
  }
}

function intParam(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw errors.badRequest(`invalid value for ${name}: "${raw}" is not an integer`);
  return Number(raw);
}

function dryRun(url: URL): boolean {
  const value = url.searchParams.get('dryRun');
  if (value === null) return false;
  if (value !== 'All') throw errors.badRequest(`Invalid dryRun value: "${value}": supported values: "All"`);
  return true;
}

async function readJson(request: Request, what: 'object' | 'patch' | 'options'): Promise<JsonValue | undefined> {
  const text = (await requestBytes(request)).toString('utf8');
  if (text.trim() === '') {
    if (what === 'options') return undefined;
    throw errors.badRequest(what === 'patch' ? 'the patch body is empty' : "couldn't get version/kind; json parse error: unexpected end of JSON input");
  }
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw errors.badRequest(
      what === 'object' ? `couldn't get version/kind; json parse error: ${detail}` : `error decoding ${what === 'patch' ? 'patch' : 'DeleteOptions'}: ${detail}`,
    );
  }
}

/**
 * fieldValidation: Strict rejects unknown fields with kube-apiserver's strict decoding error; Ignore,
 * Warn and no parameter keep them (this server sends no warnings).
 */
function strictFields(url: URL): boolean {
  const value = url.searchParams.get('fieldValidation');
  if (value === null || value === '' || value === 'Ignore' || value === 'Warn') return false;
  if (value === 'Strict') return true;
  throw errors.badRequest(`fieldValidation parameter unsupported: ${value} (supported values: Ignore, Warn, Strict)`);
}

function checkFields(type: ResourceType, object: JsonValue | undefined, strict: boolean): void {
  if (!strict || object === undefined) return;
  const unknown = unknownFieldsOf(type, object);
  if (unknown.length === 0) return;
  throw errors.badRequest(
    `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`,
  );
}

function requireJsonContent(request: Request): void {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== '' && type !== 'application/json' && type !== '*/*') throw errors.unsupportedMediaType(type);
}

function acceptsJson(request: Request): void {
  const accept = request.headers.get('accept');
  if (!accept) return;
  if (/application\/json|\*\/\*|application\/\*/i.test(accept)) return;
  throw errors.notAcceptable(accept);
}

function includeObjectOf(url: URL): IncludeObject {
  const v = url.searchParams.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function journal(ctx: HandlerContext, verb: string, target: Target, name: string, code: number): void {
  ctx.journal?.append({
    source: 'apiserver',
    kind: 'rpc',
    name: `${verb} ${target.type.plural}${target.subresource ? `/${target.subresource}` : ''}`,
    subject: { resource: target.type.plural, namespace: target.namespace, name },
    response: { code },
  });
}

function objectResponse(stored: StoredObject, status = 200): Response {
  return rawJson(stored.json(), status);
}

function listResponse(type: ResourceType, items: StoredObject[], rv: number, cont?: string, remaining?: number): Response {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (cont) metadata['continue'] = cont;
  if (remaining !== undefined) metadata['remainingItemCount'] = remaining;
  const head = `{"kind":"${type.kind}List","apiVersion":"${apiVersionOf(type)}","metadata":${JSON.stringify(metadata)},"items":[`;
  return rawJson(`${head}${items.map((s) => s.json()).join(',')}]}`);
}

async function dispatch(ctx: HandlerContext, request: Request, url: URL, target: Target): Promise<Response> {
  const { registry } = ctx;
  const { type, namespace, name, subresource } = target;
  if (subresource === 'binding' && type.kind === 'Pod' && name !== undefined) return createBinding(ctx, request, namespace, name);
  if (subresource === 'log' && type.kind === 'Pod' && name !== undefined) return servePodLog(ctx, request, url, namespace, name);
  if ((subresource === 'exec' || subresource === 'attach' || subresource === 'portforward') && type.kind === 'Pod' && name !== undefined) {
    return servePodExec(ctx, request, url, namespace, name, subresource);
  }
  const podWrite = subresource === 'ephemeralcontainers' ? writeEphemeralContainers : subresource === 'resize' ? writePodResize : undefined;
  if (podWrite && type.kind === 'Pod' && name !== undefined) {
    acceptsJson(request);
    const read = (what: 'object' | 'patch'): Promise<JsonValue | undefined> => readJson(request, what);
    const options = { dryRun: dryRun(url) };
    const { stored, verb } = await servePodSubresource(registry, request.method, request.headers.get('content-type'), read, namespace, name, (w) => podWrite(registry, namespace, name, w, options));
    if (verb !== 'get') journal(ctx, verb, target, name, 200);
    return objectResponse(stored);
  }
  if (subresource !== undefined && !(subresource === 'status' && type.statusSubresource)) {
    throw errors.notFoundPath();
  }
  const status = subresource === 'status' ? 'status' : undefined;
  const method = request.method.toUpperCase();
  acceptsJson(request);
  const table = wantsTable(request.headers.get('accept'));
  if (type.namespaced && name !== undefined && namespace === '') throw errors.notFoundPath();

  if (method === 'GET' && (isWatchRequest(url) || target.watchPath)) {
    if (name !== undefined) {
      // A watch on one object is a list watch with a name field selector.
      const selector = url.searchParams.get('fieldSelector');
      url.searchParams.set('fieldSelector', selector ? `${selector},metadata.name=${name}` : `metadata.name=${name}`);
    }
    return startWatch(ctx, request, url, target, table);
  }

  if (name === undefined) {
    switch (method) {
      case 'GET': {
        const limit = intParam(url, 'limit');
        const result = registry.list(type, namespace, {
          labelSelector: url.searchParams.get('labelSelector'),
          fieldSelector: url.searchParams.get('fieldSelector'),
          ...(limit !== undefined ? { limit } : {}),
          continue: url.searchParams.get('continue'),
        });
        if (table) return json(tableForList(type, result, includeObjectOf(url), ctx.clock.now()));
        return listResponse(type, result.items, result.resourceVersion, result.continue, result.remainingItemCount);
      }
      case 'POST': {
        if (type.namespaced && namespace === '') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
        requireJsonContent(request);
        const body = await readJson(request, 'object');
        checkFields(type, body, strictFields(url));
        const created = registry.create(type, namespace, body, { dryRun: dryRun(url), ownedBody: true });
        journal(ctx, 'create', target, created.name, 201);
        return objectResponse(created, 201);
      }
      case 'DELETE': {
        // deletecollection
        const items = registry.list(type, namespace, {
          labelSelector: url.searchParams.get('labelSelector'),
          fieldSelector: url.searchParams.get('fieldSelector'),
        });
        const opts = deleteOptions(url, await readJson(request, 'options'));
        const deleted: StoredObject[] = [];
        for (const item of items.items) deleted.push(registry.delete(type, item.namespace, item.name, opts, { dryRun: dryRun(url) }).object);
        journal(ctx, 'deletecollection', target, '', 200);
        return listResponse(type, deleted, registry.store.resourceVersion);
      }
      default:
        throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  switch (method) {
    case 'GET': {
      const stored = registry.get(type, namespace, name);
      if (table) return json(tableForList(type, { items: [stored], resourceVersion: stored.rv }, includeObjectOf(url), ctx.clock.now()));
      return objectResponse(stored);
    }
    case 'PUT': {
      requireJsonContent(request);
      const body = await readJson(request, 'object');
      checkFields(type, body, strictFields(url));
      const existed = registry.store.get(resourceKey(type), namespace, name) !== undefined;
      const stored = registry.update(type, namespace, name, body, status, { dryRun: dryRun(url) });
      journal(ctx, 'update', target, name, existed ? 200 : 201);
      return objectResponse(stored, existed ? 200 : 201);
    }
    case 'PATCH': {
      const contentType = request.headers.get('content-type') ?? '';
      const patchType = patchTypeOf(contentType);
      if (!patchType) throw errors.unsupportedMediaType(contentType);
      const body = await readJson(request, 'patch');
      const strict = strictFields(url);
      const stored = registry.patch(type, namespace, name, patchType, body ?? null, status, {
        dryRun: dryRun(url),
        ...(strict ? { checkPatched: (patched: JsonValue) => checkFields(type, patched, true) } : {}),
      });
      journal(ctx, 'patch', target, name, 200);
      return objectResponse(stored);
    }
    case 'DELETE': {
      const opts = deleteOptions(url, await readJson(request, 'options'));
      const result = registry.delete(type, namespace, name, opts, { dryRun: dryRun(url) });
      journal(ctx, 'delete', target, name, result.deleted ? 200 : 202);
      return objectResponse(result.object, result.deleted ? 200 : 202);
    }
    default:
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
}

/** pods/{name}/binding, or the namespace's bindings collection (name taken from the Binding). */
async function createBinding(ctx: HandlerContext, request: Request, namespace: string, podName: string | undefined): Promise<Response> {
  if (request.method.toUpperCase() !== 'POST') throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  requireJsonContent(request);
  const body = await readJson(request, 'object');
  const bodyName = isJsonObject(body) && isJsonObject(body['metadata']) ? body['metadata']['name'] : undefined;
  const name = podName ?? (typeof bodyName === 'string' ? bodyName : '');
  if (podName !== undefined && typeof bodyName === 'string' && bodyName !== podName) {
    throw errors.badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${podName})`);
  }
  ctx.registry.bind(namespace, name, body);
  const pods = ctx.registry.type('', 'pods');
  journal(ctx, 'create', { type: pods, namespace, name, subresource: 'binding', watchPath: false }, name, 201);
  return json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 }, 201);
}

function deleteOptions(url: URL, body: JsonValue | undefined): DeleteOptions {
  const opts: DeleteOptions = {};
  if (body !== undefined) {
    if (!isJsonObject(body)) throw errors.badRequest('DeleteOptions must be a JSON object');
    const kind = body['kind'];
    if (kind !== undefined && kind !== 'DeleteOptions') {
      throw errors.badRequest(`${String(kind)} in version "v1" cannot be handled as a DeleteOptions: the kind in the data does not match`);
    }
    const grace = body['gracePeriodSeconds'];
    if (grace !== undefined && grace !== null) {
      if (typeof grace !== 'number' || !Number.isInteger(grace)) throw errors.badRequest('DeleteOptions.gracePeriodSeconds must be an integer');
      opts.gracePeriodSeconds = grace;
    }
    const pre = body['preconditions'];
    if (isJsonObject(pre)) {
      opts.preconditions = {};
      if (typeof pre['uid'] === 'string') opts.preconditions.uid = pre['uid'];
      if (typeof pre['resourceVersion'] === 'string') opts.preconditions.resourceVersion = pre['resourceVersion'];
    }
  }
  const graceParam = intParam(url, 'gracePeriodSeconds');
  if (graceParam !== undefined) opts.gracePeriodSeconds = graceParam;
  return opts;
}

function startWatch(ctx: HandlerContext, request: Request, url: URL, target: Target, table: boolean): Response {
  const { type, namespace } = target;
  const selectors = ctx.registry.parseSelectors(type, {
    labelSelector: url.searchParams.get('labelSelector'),
    fieldSelector: url.searchParams.get('fieldSelector'),
  });
  const timeoutSeconds = intParam(url, 'timeoutSeconds');
  let active: ActiveWatch | undefined;
  const stream = createWatchStream(() => {
    active?.session.detach();
    if (active) ctx.watches.delete(active);
  }, ctx.watchMaxPendingBytes);
  const params = {
    resourceVersion: url.searchParams.get('resourceVersion'),
    allowBookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
    sendInitialEvents: url.searchParams.get('sendInitialEvents') === 'true',
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  };
  const sink = {
    push: (line: string | Buffer) => stream.sink.push(line),
    end: () => {
      if (active) ctx.watches.delete(active);
      stream.sink.end();
    },
  };
  const session = new WatchSession(ctx.registry.store, { type, namespace, ...selectors }, params, sink, {
    clock: ctx.clock,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    ...(table ? { encode: tableEncoderFor(type, includeObjectOf(url), () => ctx.clock.now()) } : {}),
  });
  active = {
    resource: type,
    session,
    drop: () => {
      session.detach();
      ctx.watches.delete(active as ActiveWatch);
      stream.fail(new Error('watch connection dropped (injected fault)'));
    },
  };
  ctx.watches.add(active);
  request.signal.addEventListener('abort', () => active?.session.detach(), { once: true });
  session.start();
  const contentType = table ? 'application/json;as=Table;v=v1;g=meta.k8s.io' : 'application/json';
  return streamed(new Response(stream.body, { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-cache, private' } }), stream);
}

