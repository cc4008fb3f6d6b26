import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentityHandlers } from '../../proto/generated/csi/csi/v1/Identity.js';
import type { NodeHandlers } from '../../proto/generated/csi/csi/v1/Node.js';
import type { RetryEvent } from '../runtime/grpc-call.js';
import { loadCsiProto } from '../runtime/proto.js';
import { CsiError } from '../runtime/rpc-error.js';
import { createCsiClient, type CsiClient } from './csi-client.js';

const dirs: string[] = [];
const servers: grpc.Server[] = [];
const clients: CsiClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) s.forceShutdown();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kh-csi-client-'));
  dirs.push(dir);
  return join(dir, 'csi.sock');
}

async function startPlugin(path: string, identity: Partial<IdentityHandlers>, node: Partial<NodeHandlers> = {}): Promise<grpc.Server> {
  const csi = loadCsiProto();
  const server = new grpc.Server();
  server.addService(csi.Identity.service, identity as grpc.UntypedServiceImplementation);
  server.addService(csi.Node.service, node as grpc.UntypedServiceImplementation);
  server.addService(csi.Controller.service, {});
  rmSync(path, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  servers.push(server);
  return server;
}

function client(options: Parameters<typeof createCsiClient>[0]): CsiClient {
  const c = createCsiClient(options);
  clients.push(c);
  return c;
}

const pluginInfo =
  (name: string): IdentityHandlers['GetPluginInfo'] =>
  (_call, callback) =>
    callback(null, { name, vendorVersion: '0.0.1', manifest: {} });

describe('createCsiClient', () => {
  it('groups one lowerCamel method per RPC under identity, controller and node', () => {
    const c = client({ endpoint: socketPath() });
    const csi = loadCsiProto();
    const lower = (n: string): string => n.charAt(0).toLowerCase() + n.slice(1);
    expect(Object.keys(c.identity).sort()).toEqual(Object.keys(csi.Identity.service).map(lower).sort());
    expect(Object.keys(c.controller).sort()).toEqual(Object.keys(csi.Controller.service).map(lower).sort());
    expect(Object.keys(c.node).sort()).toEqual(Object.keys(csi.Node.service).map(lower).sort());
  });

  it('calls Identity and Node RPCs and keeps oneofs and wrapper types', async () => {
    const path = socketPath();
    let published: unknown;
    await startPlugin(
      path,
      {
        GetPluginInfo: pluginInfo('hostpath.csi.test'),
        Probe: (_call, callback) => callback(null, { ready: { value: true } }),
      },
      {
        NodePublishVolume: (call, callback) => {
          published = {
            volumeId: call.request.volumeId,
            targetPath: call.request.targetPath,
            accessType: call.request.volumeCapability?.accessType,
            fsType: call.request.volumeCapability?.mount?.fsType,
          };
          callback(null, {});
        },
        NodeGetCapabilities: (_call, callback) =>
          callback(null, { capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }, { rpc: { type: 'GET_VOLUME_STATS' } }] }),
      },
    );
    const c = client({ endpoint: `unix://${path}` });
    expect(await c.identity.getPluginInfo()).toEqual({ name: 'hostpath.csi.test', vendorVersion: '0.0.1', manifest: {} });
    expect((await c.identity.probe()).ready?.value).toBe(true);
    await c.node.nodePublishVolume({
      volumeId: 'vol-1',
      targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount',
      volumeCapability: { mount: { fsType: 'ext4', mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } },
      readonly: false,
    });
    expect(published).toEqual({
      volumeId: 'vol-1',
      targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount',
      accessType: 'mount',
      fsType: 'ext4',
    });
    const caps = await c.node.nodeGetCapabilities();
    expect(caps.capabilities.map((cap) => cap.rpc?.type)).toEqual(['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS']);
  });

  it('surfaces status codes as CsiError kinds, Unimplemented included', async () => {
    const path = socketPath();
    await startPlugin(path, {}, {
      NodeStageVolume: (_call, callback) => callback({ code: grpc.status.INVALID_ARGUMENT, details: 'volume_id missing' }),
    });
    const c = client({ endpoint: path });
    const err = await c.node.nodeStageVolume({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsiError);
    expect((err as CsiError).kind).toBe('InvalidArgument');
    expect((err as CsiError).message).toBe('Node/NodeStageVolume: InvalidArgument: volume_id missing');
    const missing = await c.controller.createVolume({ name: 'v' }).catch((e: unknown) => e);
    expect(CsiError.is(missing, 'Unimplemented')).toBe(true);
  });

  it('retries every RPC (all idempotent in CSI) while the plugin restarts', async () => {
    const path = socketPath();
    const first = await startPlugin(path, { GetPluginInfo: pluginInfo('first') });
    const retries: RetryEvent[] = [];
    const c = client({ endpoint: path, timeoutMs: 5_000, onRetry: (e) => retries.push(e) });
    expect((await c.identity.getPluginInfo()).name).toBe('first');
    first.forceShutdown();
    const during = c.identity.getPluginInfo();
    await delay(300);
    await startPlugin(path, { GetPluginInfo: pluginInfo('second') });
    expect((await during).name).toBe('second');
    expect(retries.length).toBeGreaterThan(0);
    expect(retries[0]?.rpc).toBe('Identity/GetPluginInfo');
  });

  it('honours a per-call deadline', async () => {
    const path = socketPath();
    await startPlugin(path, { Probe: (_call, callback) => void setTimeout(() => callback(null, { ready: null }), 500) });
    const c = client({ endpoint: path });
    const err = await c.identity.probe({}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(CsiError.is(err, 'DeadlineExceeded')).toBe(true);
  });

  it('rejects a non-unix endpoint naming the option', () => {
    expect(() => createCsiClient({ endpoint: 'localhost:9000' })).toThrow(/endpoint/);
  });
});
