import { describe, expect, it } from 'vitest';
import { container, pod } from './test-fixtures.js';
import { hasSidecars, terminationPrerequisites } from './termination-order.js';

const sidecar = (name: string) => container(name, { restartPolicy: 'Always' });
const init = (name: string) => container(name);

function plan(p: ReturnType<typeof pod>, running: string[]): Record<string, string[]> {
  return Object.fromEntries(terminationPrerequisites(p, running));
}

describe('terminationPrerequisites', () => {
  it('makes every sidecar wait for all running regular containers and for the sidecar started after it', () => {
    const p = pod({ initContainers: [sidecar('s1'), sidecar('s2'), sidecar('s3')], containers: [container('a'), container('b')] });
    expect(plan(p, ['s1', 's2', 's3', 'a', 'b'])).toEqual({
      s3: ['a', 'b'],
      s2: ['a', 'b', 's3'],
      s1: ['a', 'b', 's2'],
    });
  });

  it('lets regular containers and regular init containers stop without waiting for anything', () => {
    const p = pod({ initContainers: [init('setup'), sidecar('proxy')], containers: [container('app')] });
    const got = plan(p, ['setup', 'proxy', 'app']);
    expect(got).toEqual({ proxy: ['app'] });
    expect(got['setup']).toBeUndefined();
    expect(got['app']).toBeUndefined();
  });

  it('skips regular init containers between sidecars when finding the later sidecar', () => {
    const p = pod({ initContainers: [sidecar('s1'), init('migrate'), sidecar('s2')], containers: [container('app')] });
    expect(plan(p, ['s1', 's2', 'app'])).toEqual({ s2: ['app'], s1: ['app', 's2'] });
  });

  it('does not wait for containers that are not running', () => {
    const p = pod({ initContainers: [sidecar('s1'), sidecar('s2')], containers: [container('a'), container('b')] });
    expect(plan(p, ['s1', 's2', 'b'])).toEqual({ s2: ['b'], s1: ['b', 's2'] });
  });

  it('lets the last running sidecar stop at once when every regular container has already exited', () => {
    const p = pod({ initContainers: [sidecar('s1'), sidecar('s2')], containers: [container('app')] });
    expect(plan(p, ['s1', 's2'])).toEqual({ s1: ['s2'] });
  });

  it('as upstream, does not carry the wait past a later sidecar that is not running', () => {
    // s2 is down (crashed, in backoff): s1 waits for the regular containers only, not for s3.
    const p = pod({ initContainers: [sidecar('s1'), sidecar('s2'), sidecar('s3')], containers: [container('app')] });
    expect(plan(p, ['s1', 's3', 'app'])).toEqual({ s3: ['app'], s1: ['app'] });
  });

  it('gives a sidecar that is not running no entry', () => {
    const p = pod({ initContainers: [sidecar('s1'), sidecar('s2')], containers: [container('app')] });
    expect(plan(p, ['s2', 'app'])).toEqual({ s2: ['app'] });
  });

  it('returns an empty plan for a pod without sidecars', () => {
    const p = pod({ initContainers: [init('setup')], containers: [container('a'), container('b')] });
    expect(terminationPrerequisites(p, ['a', 'b']).size).toBe(0);
  });
});

describe('hasSidecars', () => {
  it('is true only when an init container has restartPolicy Always', () => {
    expect(hasSidecars(pod({ initContainers: [init('setup'), sidecar('proxy')] }))).toBe(true);
    expect(hasSidecars(pod({ initContainers: [init('setup')] }))).toBe(false);
    expect(hasSidecars(pod({ containers: [container('app', { restartPolicy: 'Always' })] }))).toBe(false);
  });
});
