import { describe, expect, it } from 'vitest';
import { MAX_NAMES_PER_IMAGE_IN_NODE_STATUS, nodeStatusImages, sortImagesBySize, type RuntimeImage } from './images.js';

function image(id: string, size: number, tags: string[] = [], digests: string[] = []): RuntimeImage {
  return { id, size: String(size), repoTags: tags, repoDigests: digests };
}

describe('node status images', () => {
  it('names each image by its repo digests first, then its repo tags, with its size', () => {
    const got = nodeStatusImages([image('sha256:aa', 4_261_550, ['docker.io/library/busybox:1.36'], ['docker.io/library/busybox@sha256:ab'])], 50);
    expect(got).toEqual([{ names: ['docker.io/library/busybox@sha256:ab', 'docker.io/library/busybox:1.36'], sizeBytes: 4_261_550 }]);
  });

  it('lists the largest images first and breaks ties by image ID, descending', () => {
    const got = sortImagesBySize([image('sha256:a', 10), image('sha256:c', 300), image('sha256:b', 10), image('sha256:d', 20)]);
    expect(got.map((i) => i.id)).toEqual(['sha256:c', 'sha256:d', 'sha256:b', 'sha256:a']);
  });

  it('orders sizes beyond 2^53 exactly, as uint64 text', () => {
    const got = sortImagesBySize([{ id: 'x', size: '9007199254740993' }, { id: 'y', size: '9007199254740994' }]);
    expect(got.map((i) => i.id)).toEqual(['y', 'x']);
  });

  it('keeps only the nodeStatusMaxImages largest images, all of them for -1 and none for 0', () => {
    const images = Array.from({ length: 60 }, (_, n) => image(`sha256:${String(n).padStart(2, '0')}`, 1000 + n, [`img${n}:1`]));
    const fifty = nodeStatusImages(images, 50);
    expect(fifty).toHaveLength(50);
    expect(fifty[0]).toEqual({ names: ['img59:1'], sizeBytes: 1059 });
    expect(fifty.at(-1)).toEqual({ names: ['img10:1'], sizeBytes: 1010 });
    expect(nodeStatusImages(images, -1)).toHaveLength(60);
    expect(nodeStatusImages(images, 0)).toEqual([]);
    expect(nodeStatusImages(images.slice(0, 3), 50)).toHaveLength(3);
  });

  it('reports at most five names per image', () => {
    const tags = Array.from({ length: 4 }, (_, n) => `app:${n}`);
    const digests = ['app@sha256:1', 'app@sha256:2'];
    const [only] = nodeStatusImages([image('sha256:1', 1, tags, digests)], -1);
    expect(only?.names).toHaveLength(MAX_NAMES_PER_IMAGE_IN_NODE_STATUS);
    expect(only?.names).toEqual(['app@sha256:1', 'app@sha256:2', 'app:0', 'app:1', 'app:2']);
  });

  it('lists an image whose size the runtime reported malformed as zero bytes, last', () => {
    const got = nodeStatusImages([{ id: 'bad', size: 'lots', repoTags: ['bad:1'] }, image('good', 5, ['good:1'])], -1);
    expect(got).toEqual([{ names: ['good:1'], sizeBytes: 5 }, { names: ['bad:1'], sizeBytes: 0 }]);
  });
});
