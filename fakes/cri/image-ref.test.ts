import { describe, expect, it } from 'vitest';
import { normalizeImageRef, parseImageRef } from './image-ref.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('image reference normalisation as containerd does it', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['localhost:5000/x/y', 'localhost:5000/x/y:latest'],
    ['127.0.0.1:5000/busybox:1', '127.0.0.1:5000/busybox:1'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox@${D}`],
  ])('%s -> %s', (input, normalized) => {
    expect(normalizeImageRef(input)).toBe(normalized);
  });

  it.each(['', 'Busybox', 'busybox:', 'busybox@sha256:abc', 'a//b', 'busybox:-bad', 'user/UPPER'])(
    'rejects the malformed reference %j',
    (input) => {
      expect(() => parseImageRef(input)).toThrow(/invalid/);
    },
  );
});
