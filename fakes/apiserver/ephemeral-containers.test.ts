import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEphemeralContainers } from './ephemeral-containers.js';
import type { ApiRegistry } from './registry.js';
import { apiError, testRegistry } from './registry-test-support.js';
import { startMockApiServer, type MockApiServer } from './server.js';
import type { JsonObject, JsonValue } from './types.js';

function setup() {
  const { registry, pods } = testRegistry();
  registry.create(pods, 'default', {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { nodeName: 'n1', initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] },
  });
  return { registry, pods };
}

const debugger1 = { name: 'debugger-1', image: 'busybox', targetContainerName: 'app', command: ['sleep', '3600'] };

function withEphemeral(registry: ApiRegistry, list: JsonValue[], extra: (pod: JsonObject) => void = () => undefined): JsonObject {
  const pod = JSON.parse(registry.get(registry.type('', 'pods'), 'default', 'web').json()) as JsonObject;
  (pod['spec'] as JsonObject)['ephemeralContainers'] = list;
  extra(pod);
  return pod;
}

describe('the ephemeralcontainers subresource of the registry', () => {
  it('adds an ephemeral container with defaults, bumps generation and resourceVersion, and keeps everything else as stored', () => {
    const { registry, pods } = setup();
    const before = registry.get(pods, 'default', 'web');
    const body = withEphemeral(registry, [debugger1], (pod) => {
      (pod['metadata'] as JsonObject)['labels'] = { app: 'changed' };
      (pod['spec'] as JsonObject)['containers'] = [{ name: 'app', image: 'other' }];
      pod['status'] = { phase: 'Failed' };
    });
    const after = writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body });
    const spec = after.object['spec'] as JsonObject;
    expect(spec['ephemeralContainers']).toEqual([
      { ...debugger1, imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} },
    ]);
    expect(spec['containers']).toEqual((before.object['spec'] as JsonObject)['containers']);
    expect(after.object.metadata.labels).toEqual({ app: 'web' });
    expect(after.object['status']).toEqual(before.object['status']);
    expect(after.object.metadata.generation).toBe((before.object.metadata.generation ?? 1) + 1);
    expect(after.rv).toBeGreaterThan(before.rv);
  });

  it('refuses to remove or change an existing ephemeral container, naming it (422)', () => {
    const { registry } = setup();
    writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body: withEphemeral(registry, [debugger1]) });
    const removed = apiError(() => writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body: withEphemeral(registry, []) }));
    expect(removed.code).toBe(422);
    expect(removed.details?.causes).toEqual([
      { reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers', message: 'Forbidden: existing ephemeral containers "debugger-1" may not be removed\n' },
    ]);
    const current = withEphemeral(registry, []);
    const stored = ((registry.get(registry.type('', 'pods'), 'default', 'web').object['spec'] as JsonObject)['ephemeralContainers'] as JsonObject[])[0]!;
    (current['spec'] as JsonObject)['ephemeralContainers'] = [{ ...stored, image: 'alpine' }];
    const changed = apiError(() => writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body: current }));
    expect(changed.message).toBe('Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be changed\n');
  });

  it('rejects a name used by any container, an unknown target and the fields an ephemeral container may not have', () => {
    const { registry } = setup();
    const body = withEphemeral(registry, [
      { name: 'init', image: 'busybox' },
      { name: 'dbg', image: 'busybox', targetContainerName: 'nope', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1' } } },
      { name: 'dbg2', image: 'busybox', readinessProbe: { exec: { command: ['true'] } }, lifecycle: { preStop: { exec: { command: ['true'] } } } },
      { name: 'dbg3', image: 'busybox', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] },
      { name: 'dbg', image: '' },
    ]);
    const err = apiError(() => writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body }));
    expect(err.code).toBe(422);
    expect(err.details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.ephemeralContainers[0].name: Duplicate value: "init"',
      'spec.ephemeralContainers[1].targetContainerName: Not found: "nope"',
      'spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[1].resources: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[2].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[2].lifecycle: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[3].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[4].name: Duplicate value: "dbg"',
      'spec.ephemeralContainers[4].image: Required value',
    ]);
  });

  it('accepts an init container as the target', () => {
    const { registry } = setup();
    const stored = writeEphemeralContainers(registry, 'default', 'web', {
      verb: 'update',
      body: withEphemeral(registry, [{ name: 'd', image: 'busybox', targetContainerName: 'init' }]),
    });
    expect(((stored.object['spec'] as JsonObject)['ephemeralContainers'] as JsonObject[])[0]?.['targetContainerName']).toBe('init');
  });

  it('refuses ephemeral containers on a mirror pod, on create, and through an update of the pod itself', () => {
    const { registry, pods } = setup();
    registry.create(pods, 'default', { metadata: { name: 'mirror', annotations: { 'kubernetes.io/config.mirror': 'abc' } }, spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }] } });
    const mirror = apiError(() => writeEphemeralContainers(registry, 'default', 'mirror', { verb: 'patch', patchType: 'strategic', patch: { spec: { ephemeralContainers: [debugger1] } } }));
    expect(mirror.message).toBe('Pod "mirror" is invalid: Forbidden: static pods do not support ephemeral containers');
    const create = apiError(() => registry.create(pods, 'default', { metadata: { name: 'x' }, spec: { containers: [{ name: 'app', image: 'busybox' }], ephemeralContainers: [debugger1] } }));
    expect(create.details?.causes).toContainEqual({ reason: 'FieldValueForbidden', message: 'Forbidden: cannot be set on create', field: 'spec.ephemeralContainers' });
    const update = apiError(() => registry.update(pods, 'default', 'web', withEphemeral(registry, [debugger1])));
    expect(update.code).toBe(422);
    expect(update.details?.causes?.[0]?.field).toBe('spec');
  });

  it('checks a PUT against the resourceVersion it names (409 when stale)', () => {
    const { registry } = setup();
    const body = withEphemeral(registry, [debugger1], (pod) => {
      (pod['metadata'] as JsonObject)['resourceVersion'] = '1';
    });
    expect(apiError(() => writeEphemeralContainers(registry, 'default', 'web', { verb: 'update', body })).code).toBe(409);
  });

  it('answers 404 for a pod that does not exist', () => {
    const { registry } = setup();
    expect(apiError(() => writeEphemeralContainers(registry, 'default', 'nope', { verb: 'update', body: {} })).code).toBe(404);
  });
});

describe('pods/ephemeralcontainers over HTTP', () => {
  let server: MockApiServer;
  beforeAll(async () => {
    server = await startMockApiServer();
    server.registry.create(server.registry.type('', 'pods'), 'default', {
      metadata: { name: 'web' },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'busybox' }] },
    });
  });
  afterAll(async () => server.close());

  const url = (): string => `${server.url}/api/v1/namespaces/default/pods/web/ephemeralcontainers`;

  it('takes the strategic merge patch kubectl debug sends and returns the whole pod', async () => {
    const patch = {
      spec: {
        '$setElementOrder/ephemeralContainers': [{ name: 'debugger-x' }],
        ephemeralContainers: [{ name: 'debugger-x', image: 'busybox', targetContainerName: 'app', command: ['sleep', '3600'], resources: {}, terminationMessagePolicy: 'File' }],
      },
    };
    const res = await fetch(url(), { method: 'PATCH', headers: { 'content-type': 'application/strategic-merge-patch+json' }, body: JSON.stringify(patch) });
    expect(res.status).toBe(200);
    const pod = (await res.json()) as { kind: string; spec: { containers: unknown[]; ephemeralContainers: Array<{ name: string }> } };
    expect(pod.kind).toBe('Pod');
    expect(pod.spec.containers).toHaveLength(1);
    expect(pod.spec.ephemeralContainers.map((c) => c.name)).toEqual(['debugger-x']);
    const got = (await (await fetch(url())).json()) as { spec: { ephemeralContainers: unknown[] } };
    expect(got.spec.ephemeralContainers).toEqual(pod.spec.ephemeralContainers);
  });

  it('answers a removal with 422 and the cause, an unknown patch type with 415, DELETE with 405', async () => {
    const removal = await fetch(url(), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'remove', path: '/spec/ephemeralContainers' }]),
    });
    expect(removal.status).toBe(422);
    const status = (await removal.json()) as { reason: string; details: { causes: Array<{ field: string }> } };
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes[0]?.field).toBe('spec.ephemeralContainers');
    expect((await fetch(url(), { method: 'PATCH', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await fetch(url(), { method: 'DELETE' })).status).toBe(405);
  });

  it('lists the subresource in discovery with get, patch and update', async () => {
    const doc = (await (await fetch(`${server.url}/api/v1`)).json()) as { resources: Array<{ name: string; kind: string; verbs: string[] }> };
    expect(doc.resources.find((r) => r.name === 'pods/ephemeralcontainers')).toMatchObject({ kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  });
});
