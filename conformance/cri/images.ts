import assert from 'node:assert/strict';
import { CriError } from '../../agent/runtime/rpc-error.js';
import { defineSuite } from '../framework/spec.js';
import { ensureImage, eventually, normalizeImageRef } from './support.js';

export const imagesSuite = defineSuite('cri/images', [
  {
    title: 'PullImage fetches an image from the registry and ImageStatus and ListImages describe it',
    run: async (ctx) => {
      const ref = ctx.target.images.busybox;
      // Start from an absent image so the pull below really goes to the registry.
      await ctx.cri.removeImage({ image: { image: ref } });
      assert.equal((await ctx.cri.imageStatus({ image: { image: ref } })).image, null, 'image still present after RemoveImage');

      const { imageRef } = await ctx.cri.pullImage({ image: { image: ref } });
      assert.match(imageRef, /^sha256:[0-9a-f]{64}$/, `unexpected image reference ${imageRef}`);

      const { image } = await ctx.cri.imageStatus({ image: { image: ref } });
      assert.ok(image, 'ImageStatus found no image after PullImage');
      assert.equal(image.id, imageRef);
      assert.ok(image.repoTags.includes(normalizeImageRef(ref)), `repoTags ${JSON.stringify(image.repoTags)} lack ${normalizeImageRef(ref)}`);
      assert.ok(
        image.repoDigests.some((d) => /@sha256:[0-9a-f]{64}$/.test(d)),
        `repoDigests ${JSON.stringify(image.repoDigests)} have no name@sha256 digest`,
      );
      assert.ok(BigInt(image.size) > 0n, `size is ${image.size}`);

      const { images } = await ctx.cri.listImages({});
      const listed = images.find((i) => i.id === imageRef);
      assert.ok(listed, `ListImages does not include ${imageRef}`);
      assert.deepEqual([...listed.repoTags].sort(), [...image.repoTags].sort());
    },
  },
  {
    title: 'RemoveImage removes the image, and removing it again succeeds',
    run: async (ctx) => {
      const ref = ctx.target.images.busybox;
      const id = await ensureImage(ctx, ref);
      // Leave the runtime as we found it for the specs that follow.
      ctx.onCleanup(() => ensureImage(ctx, ref));
      await ctx.cri.removeImage({ image: { image: ref } });
      assert.equal((await ctx.cri.imageStatus({ image: { image: ref } })).image, null);
      const { images } = await ctx.cri.listImages({});
      assert.ok(!images.some((i) => i.id === id), `ListImages still includes ${id}`);
      await ctx.cri.removeImage({ image: { image: ref } });
    },
  },
  {
    title: 'Pulling a reference that does not exist fails with the runtime error and stores nothing',
    run: async (ctx) => {
      const ref = ctx.target.images.missing;
      let failure: unknown;
      try {
        await ctx.cri.pullImage({ image: { image: ref } });
      } catch (err) {
        failure = err;
      }
      assert.ok(failure instanceof CriError, `PullImage(${ref}) did not fail with a CRI error (got ${String(failure)})`);
      assert.ok(
        !['Unavailable', 'DeadlineExceeded', 'Cancelled'].includes(failure.kind),
        `PullImage failed for a transport reason, not the registry's answer: ${failure.message}`,
      );
      // containerd maps the registry's 404 to NotFound; other runtimes may use another code.
      if (ctx.target.kind !== 'endpoint') assert.equal(failure.kind, 'NotFound', failure.message);
      const repository = ref.replace(/[:@][^/]*$/, '');
      assert.ok(failure.details.includes(repository), `the error does not name the reference: ${failure.details}`);
      ctx.log(`runtime error: ${failure.kind}: ${failure.details}`);
      assert.equal((await ctx.cri.imageStatus({ image: { image: ref } })).image, null);
    },
  },
  {
    title: 'ImageFsInfo reports the image filesystem and, once images are present, its usage',
    run: async (ctx) => {
      await ensureImage(ctx, ctx.target.images.busybox);
      // containerd refreshes this usage on a timer (stats_collect_period, 10 s by default), so a fresh
      // runtime may report 0 at first; the eviction manager only ever sees the periodic value either way.
      const info = await eventually(
        ctx,
        'non-zero image filesystem usage',
        async () => {
          const answer = await ctx.cri.imageFsInfo({});
          const used = answer.imageFilesystems.map((fs) => BigInt(fs.usedBytes?.value ?? '0'));
          return used.length > 0 && used.every((u) => u > 0n) ? answer : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      for (const fs of info.imageFilesystems) {
        assert.ok(fs.fsId?.mountpoint, 'image filesystem without a mountpoint');
        assert.ok(BigInt(fs.timestamp) > 0n, 'image filesystem usage without a timestamp');
        assert.ok(fs.inodesUsed, 'image filesystem without inodesUsed');
      }
    },
  },
]);
