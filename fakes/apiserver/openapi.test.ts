import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from './resources.js';
import { unknownFieldsOf } from './schemas.js';
import { startMockApiServer, type MockApiServer } from './server.js';

/** The OpenAPI v3 documents as kubectl reads them, and fieldValidation over real HTTP. */
let server: MockApiServer;

beforeAll(async () => {
  server = await startMockApiServer();
});

afterAll(async () => {
  await server.close();
});

interface Operation {
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, unknown> };
}
interface Document {
  paths: Record<string, { post?: Operation; patch?: Operation; put?: Operation }>;
  components: { schemas: Record<string, { 'x-kubernetes-group-version-kind': { kind: string }[]; properties: Record<string, unknown> }> };
}

async function getJson(path: string): Promise<unknown> {
  const res = await fetch(`${server.url}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

describe('OpenAPI v3 served by the mock API server', () => {
  it('indexes every served group-version, and each document declares every kind\'s writes with fieldValidation', async () => {
    const index = (await getJson('/openapi/v3')) as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths).sort()).toEqual(['api/v1', 'apis/coordination.k8s.io/v1', 'apis/node.k8s.io/v1', 'apis/scheduling.k8s.io/v1']);
    const kinds: string[] = [];
    for (const { serverRelativeURL } of Object.values(index.paths)) {
      const doc = (await getJson(serverRelativeURL)) as Document;
      for (const [path, item] of Object.entries(doc.paths)) {
        for (const op of [item.post, item.put, item.patch]) {
          if (!op) continue;
          expect(op.parameters?.some((p) => p.name === 'fieldValidation' && p.in === 'query'), path).toBe(true);
        }
        if (item.patch && !path.endsWith('/status')) {
          kinds.push(item.patch['x-kubernetes-group-version-kind']?.kind ?? '?');
          expect(Object.keys(item.patch.requestBody?.content ?? {})).toContain('application/strategic-merge-patch+json');
        }
      }
      for (const schema of Object.values(doc.components.schemas)) expect(schema.properties).toHaveProperty('metadata');
    }
    expect(kinds.sort()).toEqual(RESOURCE_TYPES.map((t) => t.kind).sort());
  });

  it('answers 404 for a group-version it does not serve', async () => {
    expect((await fetch(`${server.url}/openapi/v3/apis/apps/v1`)).status).toBe(404);
  });

  it('keeps unknown fields without the parameter or with Warn, and rejects them with Strict', async () => {
    const body = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' }, extra: 1 });
    const post = (query: string, name: string): Promise<Response> =>
      fetch(`${server.url}/api/v1/namespaces/default/configmaps${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(name) });
    expect((await post('', 'lenient')).status).toBe(201);
    expect((await post('?fieldValidation=Warn', 'warned')).status).toBe(201);
    const strict = await post('?fieldValidation=Strict', 'strict');
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as { message: string }).message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra"',
    );
    expect(server.registry.get(server.registry.type('', 'configmaps'), 'default', 'lenient').object['extra']).toBe(1);
  });

  it('names unknown fields inside maps and lists by their path, and accepts anything under open fields', () => {
    const pods = server.registry.type('', 'pods');
    expect(unknownFieldsOf(pods, {
      metadata: { name: 'p', labels: { a: 'b' }, ownerReferences: [{ uid: 'u', bogus: true }] },
      spec: {
        containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1' } }, livenessProbe: { anything: { goes: 1 } } }, { name: 'd', image: 'i', envv: [] }],
        volumes: [{ name: 'v', hostPath: { path: '/x' } }],
      },
      status: { phase: 'Running', mystery: 1 },
    })).toEqual(['metadata.ownerReferences[0].bogus', 'spec.containers[1].envv', 'status.mystery']);
  });
});
