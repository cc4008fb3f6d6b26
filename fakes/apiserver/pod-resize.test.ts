import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePodResize } from './pod-resize.js';
import { apiError, testRegistry } from './registry-test-support.js';
import { startMockApiServer, type MockApiServer } from './server.js';
import type { JsonObject, JsonValue } from './types.js';

const burstable = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } };

function setup() {
  const { registry, pods } = testRegistry();
  registry.create(pods, 'default', {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      nodeName: 'n1',
      initContainers: [
        { name: 'setup', image: 'busybox', resources: { requests: { cpu: '50m' } } },
        { name: 'proxy', image: 'busybox', restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
      ],
      containers: [{ name: 'app', image: 'busybox', resources: burstable, resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] }],
    },
  });
  return { registry, pods };
}

const patch = (p: JsonValue) => ({ verb: 'patch' as const, patchType: 'strategic' as const, patch: p });

function appResources(obj: JsonObject): JsonValue | undefined {
  return (((obj['spec'] as JsonObject)['containers'] as JsonObject[])[0] as JsonObject)['resources'];
}

describe('the resize subresource of the registry', () => {
  it('changes a container cpu request and limit, bumps generation, and keeps every other field as stored', () => {
    const { registry, pods } = setup();
    const before = registry.get(pods, 'default', 'web');
    const after = writePodResize(
      registry,
      'default',
      'web',
      patch({ metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '300m' }, limits: { cpu: '400m' } } }] } }),
    );
    expect(appResources(after.object as unknown as JsonObject)).toEqual({ requests: { cpu: '300m', memory: '64Mi' }, limits: { cpu: '400m', memory: '128Mi' } });
    const app = ((after.object['spec'] as JsonObject)['containers'] as JsonObject[])[0]!;
    expect(app['image']).toBe('busybox');
    expect(after.object.metadata.labels).toEqual({ app: 'web' });
    expect(after.object.metadata.generation).toBe((before.object.metadata.generation ?? 1) + 1);
    expect(after.rv).toBeGreaterThan(before.rv);
  });

  it('answers a dry run with the resized pod but stores nothing, and a write that changes nothing with the stored pod', () => {
    const { registry, pods } = setup();
    const before = registry.get(pods, 'default', 'web');
    const dry = writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '150m' } } }] } }), { dryRun: true });
    expect(appResources(dry.object as unknown as JsonObject)).toMatchObject({ requests: { cpu: '150m' } });
    expect(dry.object.metadata.generation).toBe((before.object.metadata.generation ?? 1) + 1);
    expect(registry.get(pods, 'default', 'web')).toBe(before);
    const same = writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m' } } }] } }));
    expect(same).toBe(before);
  });

  it('lets a sidecar be resized and changes resizePolicy, but leaves a regular init container alone', () => {
    const { registry } = setup();
    const after = writePodResize(
      registry,
      'default',
      'web',
      patch({
        spec: {
          initContainers: [
            { name: 'setup', resources: { requests: { cpu: '70m' } } },
            { name: 'proxy', resources: { requests: { cpu: '80m' } } },
          ],
          containers: [{ name: 'app', resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'RestartContainer' }] }],
        },
      }),
    );
    const spec = after.object['spec'] as JsonObject;
    const inits = spec['initContainers'] as JsonObject[];
    expect(inits[0]!['resources']).toEqual({ requests: { cpu: '50m' } });
    expect(inits[1]!['resources']).toEqual({ requests: { cpu: '80m' } });
    expect((spec['containers'] as JsonObject[])[0]!['resizePolicy']).toEqual([{ resourceName: 'cpu', restartPolicy: 'RestartContainer' }]);
  });

  it('returns the stored pod untouched when the resize changes nothing', () => {
    const { registry, pods } = setup();
    const before = registry.get(pods, 'default', 'web');
    const after = writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '100m' } } }] } }));
    expect(after.rv).toBe(before.rv);
  });

  it('refuses a change of QoS class with the stored class as the invalid value (422 on spec)', () => {
    const { registry, pods } = setup();
    registry.create(pods, 'default', { metadata: { name: 'solo' }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox', resources: burstable }] } });
    const err = apiError(() =>
      writePodResize(registry, 'default', 'solo', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '200m', memory: '128Mi' } } }] } })),
    );
    expect(err.code).toBe(422);
    expect(err.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: "Burstable": Pod QOS Class may not change as a result of resizing' }]);
  });

  it('refuses removing a limit and changing a resource other than cpu or memory, naming the fields', () => {
    const { registry } = setup();
    const removed = apiError(() => writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { limits: { memory: null } } }] } })));
    expect(removed.details?.causes).toContainEqual({ reason: 'FieldValueForbidden', field: 'spec.containers[0].resources.limits', message: 'Forbidden: resource limits cannot be removed' });
    const storage = apiError(() =>
      writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { 'ephemeral-storage': '1Gi' } } }] } })),
    );
    expect(storage.details?.causes).toEqual([{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: only cpu and memory resources are mutable' }]);
  });

  it('refuses a request above its limit, a bad quantity and an unknown resize policy, naming each field', () => {
    const { registry } = setup();
    const above = apiError(() => writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '500m' } } }] } })));
    expect(above.details?.causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.containers[0].resources.requests', message: 'Invalid value: "500m": must be less than or equal to cpu limit of 200m' }]);
    const bad = apiError(() => writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: 'lots' } } }] } })));
    // As kube-apiserver: an unparseable quantity fails decoding (400), naming where it was.
    expect(bad.code).toBe(400);
    expect(bad.message).toMatch(/requests.*cpu|quantities must match/);
    const policy = apiError(() =>
      writePodResize(registry, 'default', 'web', patch({ spec: { containers: [{ name: 'app', resizePolicy: [{ resourceName: 'gpu', restartPolicy: 'Sometimes' }] }] } })),
    );
    expect(policy.details?.causes?.map((c) => c.field)).toEqual(['spec.containers[0].resizePolicy[0]', 'spec.containers[0].resizePolicy[0]']);
  });

  it('refuses to resize a mirror pod', () => {
    const { registry, pods } = setup();
    registry.create(pods, 'default', {
      metadata: { name: 'static-n1', annotations: { 'kubernetes.io/config.mirror': 'abc' } },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox', resources: burstable }] },
    });
    const err = apiError(() => writePodResize(registry, 'default', 'static-n1', patch({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '150m' } } }] } })));
    expect(err.details?.causes).toEqual([{ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: static pods cannot be resized' }]);
  });
});

describe('pods/resize over HTTP', () => {
  let server: MockApiServer;
  beforeAll(async () => {
    server = await startMockApiServer();
    server.registry.create(server.registry.type('', 'pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox', resources: burstable }] },
    });
  });
  afterAll(async () => server.close());

  const url = (): string => `${server.url}/api/v1/namespaces/default/pods/web/resize`;

  it('takes a strategic merge patch, a JSON patch and a PUT, and serves GET; other verbs are 405', async () => {
    const smp = await fetch(url(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { containers: [{ name: 'app', resources: { requests: { cpu: '150m' } } }] } }),
    });
    expect(smp.status).toBe(200);
    const json = await fetch(url(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/spec/containers/0/resources/limits/cpu', value: '300m' }]),
    });
    expect(json.status).toBe(200);
    const pod = (await (await fetch(url())).json()) as JsonObject;
    expect(appResources(pod)).toEqual({ requests: { cpu: '150m', memory: '64Mi' }, limits: { cpu: '300m', memory: '128Mi' } });
    ((((pod['spec'] as JsonObject)['containers'] as JsonObject[])[0]!['resources'] as JsonObject)['requests'] as JsonObject)['cpu'] = '250m';
    const put = await fetch(url(), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(pod) });
    expect(put.status).toBe(200);
    expect((await fetch(url(), { method: 'DELETE' })).status).toBe(405);
  });

  it('answers an invalid resize with a 422 Status naming the field', async () => {
    const res = await fetch(url(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '1', memory: '128Mi' }, limits: { cpu: '1', memory: '128Mi' } } }] } }),
    });
    expect(res.status).toBe(422);
    const status = (await res.json()) as { reason: string; details: { causes: Array<{ field: string }> } };
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes.map((c) => c.field)).toEqual(['spec']);
  });

  it('lists pods/resize in discovery', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1`)).json()) as { resources: Array<{ name: string; verbs: string[] }> };
    expect(doc.resources.find((r) => r.name === 'pods/resize')?.verbs).toEqual(['get', 'patch', 'update']);
  });
});
