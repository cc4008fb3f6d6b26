import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { VirtualClock } from '../clock/virtual-clock.js';
import type { CriClient } from '../runtime/cri-client.js';
import { ImagePuller, defaultPullPolicy, isValidImageName } from './image-puller.js';
import { container, pod } from './test-fixtures.js';

function stubCri(present: Set<string>, pulls: string[]): CriClient {
  return {
    imageStatus: async (req: { image: { image: string } }) => ({ image: present.has(req.image.image) ? { id: `sha256:${req.image.image}`, size: '1' } : null }),
    pullImage: async (req: { image: { image: string } }) => {
      pulls.push(req.image.image);
      throw new Error('rpc error: NotFound: manifest unknown');
    },
  } as unknown as CriClient;
}

describe('ImagePuller', () => {
  it('defaults the pull policy to Always for latest or untagged images and IfNotPresent otherwise', () => {
    expect(defaultPullPolicy('busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:latest')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/busybox')).toBe('Always');
    expect(defaultPullPolicy('busybox:1.36')).toBe('IfNotPresent');
    expect(defaultPullPolicy('busybox@sha256:abc')).toBe('IfNotPresent');
    expect(isValidImageName('Registry/UPPER:1')).toBe(false);
    expect(isValidImageName('127.0.0.1:5000/kubelet-harness/busybox:1.35')).toBe(true);
  });

  it('turns repeated pull failures into ImagePullBackOff while the doubling backoff lasts', async () => {
    const clock = new VirtualClock();
    const pulls: string[] = [];
    const recorder = new MemoryEventRecorder();
    const puller = new ImagePuller(stubCri(new Set(), pulls), clock, recorder);
    const c = container('app', { image: 'registry.local/missing:1' });
    const p = pod({ containers: [c] });
    const attempt = () => puller.ensureImageExists(p, c, {}, '').then(() => 'ok', (e: { reason: string }) => e.reason);
    expect(await attempt()).toBe('ErrImagePull');
    expect(await attempt()).toBe('ImagePullBackOff');
    await clock.advance(10_000);
    expect(await attempt()).toBe('ErrImagePull');
    await clock.advance(10_000);
    expect(await attempt()).toBe('ImagePullBackOff');
    await clock.advance(10_000);
    expect(await attempt()).toBe('ErrImagePull');
    expect(pulls.length).toBe(3);
    expect(recorder.events.map((e) => e.reason)).toEqual(['Pulling', 'Failed', 'BackOff', 'Pulling', 'Failed', 'BackOff', 'Pulling', 'Failed']);
    expect(puller.retryAt(p, 'registry.local/missing:1')).toBe(clock.monotonic() + 40_000);
    // More than 2 × 300 s after the last failure the sequence starts again at 10 s (not 80 s).
    await clock.advance(700_000);
    expect(await attempt()).toBe('ErrImagePull');
    await clock.advance(10_000);
    expect(await attempt()).toBe('ErrImagePull');
    expect(await attempt()).toBe('ImagePullBackOff');
  });

  it('never pulls under policy Never and reports a missing image as ErrImageNeverPull', async () => {
    const pulls: string[] = [];
    const puller = new ImagePuller(stubCri(new Set(['registry.local/here:1']), pulls), new VirtualClock(), new MemoryEventRecorder());
    const here = container('a', { image: 'registry.local/here:1', imagePullPolicy: 'Never' });
    expect(await puller.ensureImageExists(pod({ containers: [here] }), here, {}, '')).toBe('sha256:registry.local/here:1');
    const gone = container('b', { image: 'registry.local/gone:1', imagePullPolicy: 'Never' });
    await expect(puller.ensureImageExists(pod({ containers: [gone] }), gone, {}, '')).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
    expect(pulls).toEqual([]);
  });
});
