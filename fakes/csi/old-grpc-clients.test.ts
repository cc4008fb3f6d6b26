import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadCsiProto } from '../../agent/runtime/proto.js';
import { rawGrpcCall } from '../grpc/h2-authority/testing.js';
import { Journal } from '../journal/journal.js';
import { startFakeCsi } from './server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

it('the fake CSI driver answers a client that sends the socket path as :authority (older grpc-go CSI clients), also after a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kh-csi-authority-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'csi.sock');
  const fake = await startFakeCsi({ socketPath, journal: new Journal() });
  cleanups.push(() => fake.stop());
  const method = loadCsiProto().Identity.service.GetPluginInfo;
  const call = async (): Promise<unknown> => {
    const reply = await rawGrpcCall(socketPath, method.path, socketPath, method.requestSerialize({}));
    expect(reply).toMatchObject({ httpStatus: 200, grpcStatus: '0', rstCode: 0 });
    return method.responseDeserialize(reply.message);
  };
  expect(await call()).toMatchObject({ name: 'csi.kubelet-harness.dev' });
  await fake.restart();
  expect(await call()).toMatchObject({ name: 'csi.kubelet-harness.dev' });
});
