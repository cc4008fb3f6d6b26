import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockApiServer, type MockApiServer } from './server.js';

/**
 * Malformed and invalid requests over real HTTP: each gets the Status kube-apiserver would answer
 * (code, reason, causes naming the field) and leaves the store exactly as it was.
 */
let server: MockApiServer;

beforeAll(async () => {
  server = await startMockApiServer();
  server.registry.create(server.registry.type('', 'pods'), 'default', { metadata: { name: 'existing' }, spec: { containers: [{ name: 'c', image: 'img:1' }] } });
});

afterAll(async () => {
  await server.close();
});

interface Case {
  name: string;
  method: string;
  path: string;
  body?: string | Buffer;
  contentType?: string;
  code: number;
  reason: string;
  message?: RegExp;
  causeField?: string;
}

const pod = (over: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'img:1' }] }, ...over });

const cases: Case[] = [
  { name: 'malformed JSON', method: 'POST', path: '/api/v1/namespaces/default/pods', body: '{"metadata": {', code: 400, reason: 'BadRequest', message: /json parse error/ },
  { name: 'an empty body', method: 'POST', path: '/api/v1/namespaces/default/pods', body: '', code: 400, reason: 'BadRequest' },
  { name: 'a Node posted to the pods endpoint', method: 'POST', path: '/api/v1/namespaces/default/pods', body: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }), code: 400, reason: 'BadRequest', message: /Node in version "v1" cannot be handled as a Pod/ },
  { name: 'a wrong apiVersion', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ apiVersion: 'apps/v1' }), code: 400, reason: 'BadRequest', message: /does not match the expected API version/ },
  { name: 'metadata that is not an object', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ metadata: 'p' }), code: 400, reason: 'BadRequest', message: /cannot unmarshal string/ },
  { name: 'a name that is not a DNS-1123 subdomain', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ metadata: { name: 'Bad_Name' } }), code: 422, reason: 'Invalid', causeField: 'metadata.name', message: /^Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name"/ },
  { name: 'a missing name', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ metadata: {} }), code: 422, reason: 'Invalid', causeField: 'metadata.name' },
  { name: 'a pod without containers', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: {} }), code: 422, reason: 'Invalid', causeField: 'spec.containers' },
  { name: 'a container without an image', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { containers: [{ name: 'c' }] } }), code: 422, reason: 'Invalid', causeField: 'spec.containers[0].image' },
  { name: 'a liveness probe with successThreshold 2', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { containers: [{ name: 'c', image: 'i', livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] } }), code: 422, reason: 'Invalid', causeField: 'spec.containers[0].livenessProbe.successThreshold' },
  { name: 'requests above limits', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { containers: [{ name: 'c', image: 'i', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] } }), code: 422, reason: 'Invalid', causeField: 'spec.containers[0].resources.requests' },
  { name: 'an unparsable quantity', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '12XB' } } }] } }), code: 400, reason: 'BadRequest', causeField: 'spec.containers[0].resources.limits.memory' },
  { name: 'containers that are not a list', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { containers: 'c' } }), code: 400, reason: 'BadRequest' },
  { name: 'an unknown priority class', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { priorityClassName: 'gold', containers: [{ name: 'c', image: 'i' }] } }), code: 403, reason: 'Forbidden', message: /no PriorityClass with name gold was found/ },
  { name: 'a priority that disagrees with its class', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ spec: { priority: 7, containers: [{ name: 'c', image: 'i' }] } }), code: 403, reason: 'Forbidden', message: /must not be provided in pod spec/ },
  { name: 'a missing namespace', method: 'POST', path: '/api/v1/namespaces/nowhere/pods', body: pod({}), code: 404, reason: 'NotFound', message: /namespaces "nowhere" not found/ },
  { name: 'a name that already exists', method: 'POST', path: '/api/v1/namespaces/default/pods', body: pod({ metadata: { name: 'existing' } }), code: 409, reason: 'AlreadyExists', message: /pods "existing" already exists/ },
  { name: 'a stale resourceVersion', method: 'PUT', path: '/api/v1/namespaces/default/pods/existing', body: pod({ metadata: { name: 'existing', resourceVersion: '1' } }), code: 409, reason: 'Conflict', message: /the object has been modified/ },
  { name: 'a body name that differs from the URL', method: 'PUT', path: '/api/v1/namespaces/default/pods/existing', body: pod({ metadata: { name: 'other' } }), code: 400, reason: 'BadRequest', message: /does not match the name on the URL/ },
  { name: 'a change to an immutable pod field', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing', contentType: 'application/merge-patch+json', body: JSON.stringify({ spec: { restartPolicy: 'Never' } }), code: 422, reason: 'Invalid', causeField: 'spec' },
  { name: 'a patch content type it does not know', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing', contentType: 'text/plain', body: '{}', code: 415, reason: 'UnsupportedMediaType' },
  { name: 'a JSON patch that is not a list', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing', contentType: 'application/json-patch+json', body: '{"op":"add"}', code: 400, reason: 'BadRequest' },
  { name: 'a failing JSON patch test', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing', contentType: 'application/json-patch+json', body: JSON.stringify([{ op: 'test', path: '/metadata/name', value: 'x' }, { op: 'add', path: '/metadata/labels', value: { a: 'b' } }]), code: 422, reason: 'Invalid' },
  { name: 'a JSON patch removing a missing path', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing', contentType: 'application/json-patch+json', body: JSON.stringify([{ op: 'remove', path: '/metadata/labels/nope' }]), code: 422, reason: 'Invalid' },
  { name: 'a patch to a missing object', method: 'PATCH', path: '/api/v1/namespaces/default/pods/ghost', contentType: 'application/merge-patch+json', body: '{}', code: 404, reason: 'NotFound' },
  { name: 'an unknown field in a strict update', method: 'PUT', path: '/api/v1/namespaces/default/pods/existing?fieldValidation=Strict', body: pod({ metadata: { name: 'existing', labelz: {} } }), code: 400, reason: 'BadRequest', message: /^Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "metadata\.labelz"$/ },
  { name: 'an unknown field in a strict patch', method: 'PATCH', path: '/api/v1/namespaces/default/pods/existing?fieldValidation=Strict', contentType: 'application/strategic-merge-patch+json', body: JSON.stringify({ spec: { containers: [{ name: 'c', imagePullPolicyy: 'Always' }] } }), code: 400, reason: 'BadRequest', message: /strict decoding error: unknown field "spec\.containers\[0\]\.imagePullPolicyy"/ },
  { name: 'a fieldValidation value it does not know', method: 'POST', path: '/api/v1/namespaces/default/pods?fieldValidation=strict', body: pod({}), code: 400, reason: 'BadRequest', message: /fieldValidation parameter unsupported: strict/ },
  { name: 'a bad label selector', method: 'GET', path: '/api/v1/pods?labelSelector=app%20in%20(a', code: 400, reason: 'BadRequest' },
  { name: 'an unsupported field selector', method: 'GET', path: '/api/v1/pods?fieldSelector=spec.image%3Dx', code: 400, reason: 'BadRequest', message: /field label not supported: spec\.image/ },
  { name: 'a corrupt continue token', method: 'GET', path: '/api/v1/pods?limit=1&continue=%%%', code: 400, reason: 'BadRequest' },
  { name: 'a non-numeric limit', method: 'GET', path: '/api/v1/pods?limit=ten', code: 400, reason: 'BadRequest' },
  { name: 'an unknown resource', method: 'GET', path: '/api/v1/deployments', code: 404, reason: 'NotFound' },
  { name: 'an unknown subresource', method: 'GET', path: '/api/v1/namespaces/default/pods/existing/notasubresource', code: 404, reason: 'NotFound' },
  { name: 'a body over 3 MiB', method: 'POST', path: '/api/v1/namespaces/default/configmaps', body: Buffer.alloc(3 * 1024 * 1024 + 1, 0x20), code: 413, reason: 'RequestEntityTooLarge' },
  { name: 'a protobuf body', method: 'POST', path: '/api/v1/namespaces/default/pods', contentType: 'application/vnd.kubernetes.protobuf', body: 'k8s\0', code: 415, reason: 'UnsupportedMediaType' },
];

describe('bad input to the mock API server', () => {
  it.each(cases)('answers $name with $code $reason and changes nothing', async (c) => {
    const before = server.store.resourceVersion;
    const podsBefore = server.store.list('pods').map((s) => s.json());
    const init: RequestInit = { method: c.method, headers: { 'content-type': c.contentType ?? 'application/json' } };
    if (c.body !== undefined) init.body = c.body;
    const res = await fetch(`${server.url}${c.path}`, init);
    const status = (await res.json()) as { kind: string; code: number; reason: string; message: string; details?: { causes?: Array<{ field?: string }> } };
    expect(res.status).toBe(c.code);
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: c.code, reason: c.reason });
    if (c.message) expect(status.message).toMatch(c.message);
    if (c.causeField) expect(status.details?.causes?.map((cause) => cause.field)).toContain(c.causeField);
    expect(server.store.resourceVersion).toBe(before);
    expect(server.store.list('pods').map((s) => s.json())).toEqual(podsBefore);
  });

  it('answers a watch from a compacted resourceVersion with ERROR 410 Expired and closes the stream', async () => {
    server.faults.compactHistory();
    const res = await fetch(`${server.url}/api/v1/pods?watch=true&resourceVersion=1`);
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { code: number; reason: string } });
    expect(lines).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });

  it('keeps serving after every bad request above', async () => {
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods/existing`);
    expect(res.status).toBe(200);
  });
});
