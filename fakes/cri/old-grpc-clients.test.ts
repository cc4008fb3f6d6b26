import { afterEach, describe, expect, it } from 'vitest';
import { loadCriProto } from '../../agent/runtime/proto.js';
import { rawGrpcCall } from '../grpc/h2-authority/testing.js';
import { startFakeCri, type FakeCri } from './server.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function fake(): Promise<FakeCri> {
  const f = await startFakeCri({ cniNetwork: false });
  cleanups.push(() => f.close());
  return f;
}

/** Version as crictl and kubelets before 1.31 call it: the socket path as :authority. */
async function versionWithPathAuthority(f: FakeCri): Promise<unknown> {
  const method = loadCriProto().RuntimeService.service.Version;
  const reply = await rawGrpcCall(f.socketPath, method.path, f.socketPath, method.requestSerialize({ version: 'v1' }));
  expect(reply).toMatchObject({ httpStatus: 200, grpcStatus: '0', rstCode: 0 });
  return method.responseDeserialize(reply.message);
}

describe('the fake CRI with clients that send the socket path as :authority (grpc-go, crictl and kubelet < 1.31)', () => {
  it('answers their Version call, also after a restart', async () => {
    const f = await fake();
    const expected = { version: '0.1.0', runtimeName: 'fake-cri', runtimeApiVersion: 'v1' };
    expect(await versionWithPathAuthority(f)).toMatchObject(expected);
    await f.restart({ keepState: true });
    expect(await versionWithPathAuthority(f)).toMatchObject(expected);
    expect(f.journal.entries().filter((e) => e.name === 'Version')).toHaveLength(2);
  });

  it('answers image calls from such a client too', async () => {
    const f = await fake();
    const image = loadCriProto().ImageService.service;
    const pulled = await rawGrpcCall(f.socketPath, image.PullImage.path, f.socketPath, image.PullImage.requestSerialize({ image: { image: 'busybox:1.36' } }));
    expect(image.PullImage.responseDeserialize(pulled.message)).toMatchObject({ imageRef: expect.stringMatching(/^sha256:/) });
    const listed = await rawGrpcCall(f.socketPath, image.ListImages.path, f.socketPath, image.ListImages.requestSerialize({}));
    expect(image.ListImages.responseDeserialize(listed.message)).toMatchObject({ images: [expect.objectContaining({ repoTags: ['docker.io/library/busybox:1.36'] })] });
  });
});
