import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/index.js';
import { loadCsiProto } from '../../agent/runtime/proto.js';
import { assertHappensBefore, step } from '../journal/happens-before.js';
import { Journal, match } from '../journal/journal.js';
import { PUBLISHED_MARKER, STAGED_MARKER } from './driver.js';
import { startFakeCsi, type FakeCsi, type StartFakeCsiOptions } from './server.js';

type Call = (method: string, request: object, options?: { deadlineMs?: number }) => Promise<Record<string, unknown>>;

let dir: string;
let fake: FakeCsi | undefined;
let clients: grpc.Client[] = [];
let journal: Journal;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kh-csi-'));
  journal = new Journal();
});
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await fake?.stop();
  fake = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: Partial<StartFakeCsiOptions> = {}): Promise<Call> {
  fake = await startFakeCsi({ socketPath: join(dir, 'csi.sock'), journal, ...options });
  const proto = loadCsiProto();
  const services = { Identity: proto.Identity, Node: proto.Node, Controller: proto.Controller };
  const byMethod = new Map<string, grpc.Client>();
  for (const ctor of Object.values(services)) {
    const client = new ctor(fake.endpoint, grpc.credentials.createInsecure());
    clients.push(client);
    for (const name of Object.keys(ctor.service)) byMethod.set(name, client);
  }
  return (method, request, opts = {}) =>
    new Promise((resolve, reject) => {
      const client = byMethod.get(method) as unknown as Record<
        string,
        (req: object, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void
      >;
      const deadline = opts.deadlineMs ? Date.now() + opts.deadlineMs : Infinity;
      client[method]?.call(client, request, new grpc.Metadata(), { deadline }, (err, res) => (err ? reject(err) : resolve(res)));
    });
}

const mountRW = { mount: { fsType: 'ext4' }, accessMode: { mode: 'SINGLE_NODE_WRITER' } };
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return grpc.status[(err as grpc.ServiceError).code] as string;
  }
};

describe('fake CSI driver: identity and node info', () => {
  it('serves plugin info, capabilities, probe and node info on a 0600 socket', async () => {
    const call = await start({ nodeId: 'node-a', vendorVersion: '9.9.9' });
    expect((await stat(join(dir, 'csi.sock'))).mode & 0o777).toBe(0o600);
    expect(await call('GetPluginInfo', {})).toMatchObject({ name: 'csi.kubelet-harness.dev', vendorVersion: '9.9.9' });
    expect(await call('GetPluginCapabilities', {})).toMatchObject({ capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }] });
    expect(await call('Probe', {})).toMatchObject({ ready: { value: true } });
    expect(await call('NodeGetInfo', {})).toMatchObject({ nodeId: 'node-a' });
    const caps = (await call('NodeGetCapabilities', {})).capabilities as Array<{ rpc: { type: string } }>;
    expect(caps.map((c) => c.rpc.type)).toEqual(['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS']);
    expect(journal.entries(match('csi', 'NodeGetInfo'))).toHaveLength(1);
  });

  it('leaves out the Controller service when CONTROLLER_SERVICE is not advertised', async () => {
    const call = await start({ capabilities: { plugin: [] } });
    expect(await codeOf(call('CreateVolume', { name: 'x', volumeCapabilities: [mountRW] }))).toBe('UNIMPLEMENTED');
    expect(await codeOf(call('NodeExpandVolume', { volumeId: 'v', volumePath: '/x' }))).toBe('UNIMPLEMENTED');
  });
});

describe('fake CSI driver: node stage and publish', () => {
  it('stages, publishes, unpublishes and unstages idempotently, creating and removing the target', async () => {
    const call = await start();
    const staging = join(dir, 'plugins', 'globalmount');
    const target = join(dir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~csi', 'data', 'mount');
    await mkdir(staging, { recursive: true });
    await mkdir(join(target, '..'), { recursive: true });

    const stageReq = { volumeId: 'v1', stagingTargetPath: staging, volumeCapability: mountRW };
    await call('NodeStageVolume', stageReq);
    await call('NodeStageVolume', stageReq);
    expect(JSON.parse(await readFile(join(staging, STAGED_MARKER), 'utf8'))).toMatchObject({ volumeId: 'v1' });

    const publishReq = { ...stageReq, targetPath: target, readonly: false, volumeContext: { k: 'v' } };
    await call('NodePublishVolume', publishReq);
    await call('NodePublishVolume', publishReq);
    expect(JSON.parse(await readFile(join(target, PUBLISHED_MARKER), 'utf8'))).toMatchObject({ volumeId: 'v1', volumeContext: { k: 'v' } });
    await writeFile(join(target, 'data.txt'), 'hello');
    expect(fake?.driver.snapshot().published.map((p) => p.targetPath)).toEqual([target]);

    const stats = await call('NodeGetVolumeStats', { volumeId: 'v1', volumePath: target });
    expect((stats.usage as Array<{ unit: string; used: string }>)[0]).toMatchObject({ unit: 'BYTES', total: String(2 ** 30) });

    expect(await codeOf(call('NodeUnstageVolume', { volumeId: 'v1', stagingTargetPath: staging }))).toBe('FAILED_PRECONDITION');
    await call('NodeUnpublishVolume', { volumeId: 'v1', targetPath: target });
    expect(existsSync(target)).toBe(false);
    await call('NodeUnpublishVolume', { volumeId: 'v1', targetPath: target });
    await call('NodeUnstageVolume', { volumeId: 'v1', stagingTargetPath: staging });
    await call('NodeUnstageVolume', { volumeId: 'v1', stagingTargetPath: staging });
    expect(existsSync(join(staging, STAGED_MARKER))).toBe(false);
    expect(fake?.driver.snapshot()).toMatchObject({ staged: [], published: [] });

    const ok = (name: string, subject: Record<string, string>) => step(name, (e) => match('csi', name, subject)(e) && !e.error);
    assertHappensBefore(journal, [
      ok('NodeStageVolume', { volumeId: 'v1' }),
      ok('NodePublishVolume', { volumeId: 'v1', podUid: 'uid-1' }),
      ok('NodeUnpublishVolume', { volumeId: 'v1' }),
      ok('NodeUnstageVolume', { volumeId: 'v1' }),
    ]);
  });

  it('refuses NodePublishVolume before NodeStageVolume when STAGE_UNSTAGE_VOLUME is advertised', async () => {
    const call = await start();
    const target = join(dir, 'mount');
    const base = { volumeId: 'v2', targetPath: target, volumeCapability: mountRW };
    expect(await codeOf(call('NodePublishVolume', base))).toBe('FAILED_PRECONDITION');
    expect(await codeOf(call('NodePublishVolume', { ...base, stagingTargetPath: join(dir, 'never-staged') }))).toBe('FAILED_PRECONDITION');
    const entry = journal.last(match('csi', 'NodePublishVolume', { volumeId: 'v2' }));
    expect(entry?.error).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('NodeStageVolume first') });
  });

  it('publishes without staging when STAGE_UNSTAGE_VOLUME is not advertised, and refuses NodeStageVolume', async () => {
    const call = await start({ capabilities: { node: [] } });
    const target = join(dir, 'inline', 'mount');
    await mkdir(join(dir, 'inline'));
    await call('NodePublishVolume', { volumeId: 'inline-1', targetPath: target, volumeCapability: mountRW });
    expect(existsSync(join(target, PUBLISHED_MARKER))).toBe(true);
    expect(await codeOf(call('NodeStageVolume', { volumeId: 'x', stagingTargetPath: dir, volumeCapability: mountRW }))).toBe('UNIMPLEMENTED');
  });

  it('rejects missing required fields with INVALID_ARGUMENT naming the field', async () => {
    const call = await start();
    const cases: Array<[string, object, string]> = [
      ['NodeStageVolume', { stagingTargetPath: dir, volumeCapability: mountRW }, 'volume_id: required'],
      ['NodeStageVolume', { volumeId: 'v', volumeCapability: mountRW }, 'staging_target_path: required'],
      ['NodeStageVolume', { volumeId: 'v', stagingTargetPath: dir }, 'volume_capability: required'],
      ['NodeStageVolume', { volumeId: 'v', stagingTargetPath: dir, volumeCapability: { accessMode: { mode: 'SINGLE_NODE_WRITER' } } }, 'volume_capability.access_type: one of mount or block is required'],
      ['NodeStageVolume', { volumeId: 'v', stagingTargetPath: dir, volumeCapability: { mount: {} } }, 'volume_capability.access_mode: required'],
      ['NodeStageVolume', { volumeId: 'v', stagingTargetPath: 'relative', volumeCapability: mountRW }, 'staging_target_path: must be an absolute path'],
      ['NodePublishVolume', { volumeId: 'v', volumeCapability: mountRW }, 'target_path: required'],
      ['NodeUnpublishVolume', { targetPath: '/x' }, 'volume_id: required'],
      ['NodeUnstageVolume', { volumeId: 'v' }, 'staging_target_path: required'],
      ['CreateVolume', { volumeCapabilities: [mountRW] }, 'name: required'],
      ['CreateVolume', { name: 'n' }, 'volume_capabilities: required'],
      ['DeleteVolume', {}, 'volume_id: required'],
      ['ValidateVolumeCapabilities', { volumeId: 'v' }, 'volume_capabilities: required'],
    ];
    for (const [method, request, message] of cases) {
      const err = await call(method, request).then(
        () => undefined,
        (e: grpc.ServiceError) => e,
      );
      expect(err?.code, `${method} ${message}`).toBe(grpc.status.INVALID_ARGUMENT);
      expect(err?.details, method).toContain(message);
    }
  });

  it('reports incompatible re-publication as ALREADY_EXISTS and a second single-writer target as FAILED_PRECONDITION', async () => {
    const call = await start({ capabilities: { node: [] } });
    const a = join(dir, 'a');
    await call('NodePublishVolume', { volumeId: 'v', targetPath: a, volumeCapability: mountRW });
    expect(await codeOf(call('NodePublishVolume', { volumeId: 'v', targetPath: a, volumeCapability: mountRW, readonly: true }))).toBe('ALREADY_EXISTS');
    const single = { mount: {}, accessMode: { mode: 'SINGLE_NODE_SINGLE_WRITER' } };
    await call('NodePublishVolume', { volumeId: 's', targetPath: join(dir, 's1'), volumeCapability: single });
    expect(await codeOf(call('NodePublishVolume', { volumeId: 's', targetPath: join(dir, 's2'), volumeCapability: single }))).toBe('FAILED_PRECONDITION');
    expect(await codeOf(call('NodePublishVolume', { volumeId: 'v', targetPath: join(dir, 'no', 'parent'), volumeCapability: mountRW }))).toBe('INTERNAL');
  });

  it('publishes block volumes as a file', async () => {
    const call = await start({ capabilities: { node: [] } });
    const target = join(dir, 'dev-file');
    await call('NodePublishVolume', { volumeId: 'b', targetPath: target, volumeCapability: { block: {}, accessMode: { mode: 'SINGLE_NODE_WRITER' } } });
    expect((await stat(target)).isFile()).toBe(true);
    await call('NodeUnpublishVolume', { volumeId: 'b', targetPath: target });
    expect(existsSync(target)).toBe(false);
  });
});

describe('fake CSI driver: controller', () => {
  it('creates volumes idempotently by name, lists, validates, reports capacity and deletes', async () => {
    const call = await start({ totalCapacityBytes: 10n << 30n });
    const req = { name: 'pvc-1', volumeCapabilities: [mountRW], capacityRange: { requiredBytes: String(2 * 2 ** 30) }, parameters: { tier: 'fast' } };
    const created = (await call('CreateVolume', req)).volume as { volumeId: string; capacityBytes: string };
    expect(created.capacityBytes).toBe(String(2 * 2 ** 30));
    expect(((await call('CreateVolume', req)).volume as { volumeId: string }).volumeId).toBe(created.volumeId);
    expect(await codeOf(call('CreateVolume', { ...req, parameters: { tier: 'slow' } }))).toBe('ALREADY_EXISTS');
    expect(await codeOf(call('CreateVolume', { name: 'big', volumeCapabilities: [mountRW], capacityRange: { requiredBytes: String(9 * 2 ** 30) } }))).toBe('RESOURCE_EXHAUSTED');
    expect(await codeOf(call('CreateVolume', { name: 'bad', volumeCapabilities: [mountRW], capacityRange: { requiredBytes: '10', limitBytes: '5' } }))).toBe('INVALID_ARGUMENT');
    await call('CreateVolume', { name: 'pvc-2', volumeCapabilities: [mountRW] });

    const page1 = await call('ListVolumes', { maxEntries: 1 });
    expect((page1.entries as unknown[]).length).toBe(1);
    const page2 = await call('ListVolumes', { maxEntries: 1, startingToken: page1.nextToken as string });
    expect((page2.entries as unknown[]).length).toBe(1);
    expect(page2.nextToken).toBe('');
    expect(await codeOf(call('ListVolumes', { startingToken: 'zzz' }))).toBe('ABORTED');
    expect((await call('GetCapacity', {})).availableCapacity).toBe(String((10 - 2 - 1) * 2 ** 30));

    const validated = await call('ValidateVolumeCapabilities', { volumeId: created.volumeId, volumeCapabilities: [mountRW] });
    expect(validated.confirmed).not.toBeNull();
    expect(await codeOf(call('ValidateVolumeCapabilities', { volumeId: 'nope', volumeCapabilities: [mountRW] }))).toBe('NOT_FOUND');

    await call('DeleteVolume', { volumeId: created.volumeId });
    await call('DeleteVolume', { volumeId: created.volumeId });
    expect(await codeOf(call('ControllerPublishVolume', { volumeId: 'x', nodeId: 'fake-node', volumeCapability: mountRW }))).toBe('UNIMPLEMENTED');
  });

  it('attaches with ControllerPublishVolume before staging when PUBLISH_UNPUBLISH_VOLUME is advertised', async () => {
    const call = await start({ capabilities: { controller: ['CREATE_DELETE_VOLUME', 'PUBLISH_UNPUBLISH_VOLUME'] } });
    const { volumeId } = (await call('CreateVolume', { name: 'att', volumeCapabilities: [mountRW] })).volume as { volumeId: string };
    const staging = join(dir, 'stg');
    await mkdir(staging);
    const stage = { volumeId, stagingTargetPath: staging, volumeCapability: mountRW };
    expect(await codeOf(call('NodeStageVolume', stage))).toBe('FAILED_PRECONDITION');
    expect(await codeOf(call('ControllerPublishVolume', { volumeId, nodeId: 'other-node', volumeCapability: mountRW }))).toBe('NOT_FOUND');
    const published = await call('ControllerPublishVolume', { volumeId, nodeId: 'fake-node', volumeCapability: mountRW });
    expect(published.publishContext).toEqual({ devicePath: `/dev/fake/${volumeId}` });
    await call('NodeStageVolume', stage);
    expect(await codeOf(call('DeleteVolume', { volumeId }))).toBe('FAILED_PRECONDITION');
    expect(await codeOf(call('ControllerUnpublishVolume', { volumeId, nodeId: 'fake-node' }))).toBe('FAILED_PRECONDITION');
    await call('NodeUnstageVolume', { volumeId, stagingTargetPath: staging });
    await call('ControllerUnpublishVolume', { volumeId, nodeId: 'fake-node' });
    await call('DeleteVolume', { volumeId });
  });
});

describe('fake CSI driver: faults', () => {
  it('fails the n-th matching call with the configured status and journals it', async () => {
    const call = await start({
      capabilities: { node: [] },
      faults: [{ method: 'NodePublishVolume', match: { volumeId: 'flaky' }, nth: 2, effect: { type: 'error', code: 'RESOURCE_EXHAUSTED', message: 'disk quota' } }],
    });
    const req = (n: number): object => ({ volumeId: 'flaky', targetPath: join(dir, `t${n}`), volumeCapability: mountRW });
    expect(await codeOf(call('NodePublishVolume', { volumeId: 'other', targetPath: join(dir, 'o'), volumeCapability: mountRW }))).toBe('OK');
    expect(await codeOf(call('NodePublishVolume', req(1)))).toBe('OK');
    expect(await codeOf(call('NodePublishVolume', req(2)))).toBe('RESOURCE_EXHAUSTED');
    expect(await codeOf(call('NodePublishVolume', req(3)))).toBe('OK');
    expect(existsSync(join(dir, 't2'))).toBe(false);
    expect(journal.entries(match('csi', 'NodePublishVolume', { volumeId: 'flaky' })).map((e) => e.error?.code ?? 'OK')).toEqual([
      'OK',
      'RESOURCE_EXHAUSTED',
      'OK',
    ]);
  });

  it('delays on the injected clock and answers ABORTED to a concurrent call for the same volume', async () => {
    const clock = new VirtualClock();
    const call = await start({ clock, capabilities: { node: [] }, faults: [{ method: 'NodePublishVolume', nth: 1, effect: { type: 'delay', ms: 5000 } }] });
    const req = { volumeId: 'slow', targetPath: join(dir, 'slow'), volumeCapability: mountRW };
    let done = false;
    const first = call('NodePublishVolume', req).then(() => (done = true));
    await journal.waitFor(() => false, AbortSignal.timeout(200)).catch(() => undefined);
    expect(done).toBe(false);
    expect(await codeOf(call('NodePublishVolume', req))).toBe('ABORTED');
    await clock.advance(5000);
    await first;
    expect(done).toBe(true);
    expect(journal.entries(match('csi', 'NodePublishVolume')).map((e) => e.error?.code ?? 'OK')).toEqual(['ABORTED', 'OK']);
  });

  it('hangs until the caller gives up, then journals the cancellation', async () => {
    const call = await start({ faults: [{ method: 'Probe', effect: { type: 'hang' } }] });
    expect(await codeOf(call('Probe', {}, { deadlineMs: 300 }))).toBe('DEADLINE_EXCEEDED');
    const entry = await journal.waitFor(match('csi', 'Probe'), AbortSignal.timeout(5000));
    expect(entry.error?.code).toBe('CANCELLED');
  });

  it('draws probabilistic faults from the seed, reproducibly', async () => {
    const outcomes = async (seed: number): Promise<string[]> => {
      const call = await start({ seed, faults: [{ method: 'Probe', probability: 0.5, effect: { type: 'error', code: 'UNAVAILABLE' } }] });
      const out: string[] = [];
      for (let i = 0; i < 16; i++) out.push(await codeOf(call('Probe', {})));
      for (const c of clients) c.close();
      clients = [];
      await fake?.stop();
      fake = undefined;
      return out;
    };
    const a = await outcomes(42);
    expect(await outcomes(42)).toEqual(a);
    expect(a).toContain('OK');
    expect(a).toContain('UNAVAILABLE');
  });

  it('restarts on a restart fault, keeping or losing its state, and journals it', async () => {
    const call = await start({ capabilities: { node: [] }, faults: [{ method: 'Probe', nth: 1, effect: { type: 'restart', keepState: false, downMs: 50 } }] });
    await call('NodePublishVolume', { volumeId: 'r', targetPath: join(dir, 'r'), volumeCapability: mountRW });
    expect(fake?.driver.snapshot().published).toHaveLength(1);
    expect(await codeOf(call('Probe', {}, { deadlineMs: 5000 }))).toBe('UNAVAILABLE');
    await journal.waitFor(match('csi', 'PluginRestarted'), AbortSignal.timeout(5000));
    expect(await call('Probe', {})).toMatchObject({ ready: { value: true } });
    expect(fake?.driver.snapshot().published).toEqual([]);
    await call('NodePublishVolume', { volumeId: 'k', targetPath: join(dir, 'k'), volumeCapability: mountRW });
    await fake?.restart({ keepState: true });
    expect(fake?.driver.snapshot().published.map((p) => p.volumeId)).toEqual(['k']);
    expect(journal.entries(match('csi', 'PluginRestarting')).map((e) => e.request)).toEqual([
      { keepState: false, downMs: 50 },
      { keepState: true, downMs: 0 },
    ]);
  });

  it('rejects fault rules that name an unknown method or status', async () => {
    await expect(start({ faults: [{ method: 'NodePublish', effect: { type: 'error', code: 'INTERNAL' } }] })).rejects.toThrow(
      'faults[0].method: unknown CSI method "NodePublish"',
    );
    await expect(start({ faults: [{ method: 'Probe', effect: { type: 'error', code: 'BROKEN' as 'INTERNAL' } }] })).rejects.toThrow('BROKEN');
  });
});
