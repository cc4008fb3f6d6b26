import { describe, expect, it } from 'vitest';
import { orphanAsApiPod, orphanKillFailedEvent, orphanKillingEvent } from './orphan-events.js';
import type { OrphanedPod } from './orphans.js';

const pod: OrphanedPod = {
  uid: 'u1',
  name: 'web',
  namespace: 'shop',
  sandboxIds: ['s1'],
  containerIds: ['c1', 'c2', 'c3'],
  runningContainers: [
    { id: 'c1', name: 'app' },
    { id: 'c2', name: 'proxy' },
  ],
};

describe('the events of an orphaned pod', () => {
  it('come from a bare pod holding only the identity and the running containers by name, so no lifecycle hook is known', () => {
    expect(orphanAsApiPod(pod)).toEqual({ metadata: { uid: 'u1', name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app' }, { name: 'proxy' }] } });
  });

  it('say Stopping container <name> as a Normal Killing event on the container of that pod', () => {
    expect(orphanKillingEvent(pod, 'proxy')).toEqual({
      ref: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'shop', uid: 'u1', fieldPath: 'spec.containers{proxy}' },
      type: 'Normal',
      reason: 'Killing',
      message: 'Stopping container proxy',
    });
  });

  it('word a single kill failure alone and several in brackets, as upstream sync results, on the pod itself', () => {
    const one = orphanKillFailedEvent(pod, [{ action: 'KillContainer', target: 'app', message: 'timed out' }]);
    expect(one).toEqual({
      ref: { apiVersion: 'v1', kind: 'Pod', name: 'web', namespace: 'shop', uid: 'u1' },
      type: 'Warning',
      reason: 'FailedKillPod',
      message: 'error killing pod: failed to "KillContainer" for "app" with KillContainerError: "timed out"',
    });
    const two = orphanKillFailedEvent(pod, [
      { action: 'KillContainer', target: 'app', message: 'a "quoted" reason' },
      { action: 'KillPodSandbox', target: 'u1', message: 'busy' },
    ]);
    expect(two.message).toBe(
      'error killing pod: [failed to "KillContainer" for "app" with KillContainerError: "a \\"quoted\\" reason", failed to "KillPodSandbox" for "u1" with KillPodSandboxError: "busy"]',
    );
  });

  it('refuse to word a failure event when nothing failed', () => {
    expect(() => orphanKillFailedEvent(pod, [])).toThrow(/failures is empty/);
  });
});
