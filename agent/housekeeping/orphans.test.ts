import { describe, expect, it } from 'vitest';
import { ORPHAN_STOP_TIMEOUT_SECONDS, findOrphanedDirectories, findOrphanedPods, parseLogDirectoryName, type RuntimeObject } from './orphans.js';

function labels(uid: string, name = `pod-${uid}`): Record<string, string> {
  return { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': 'default' };
}

const sandbox = (id: string, uid: string): RuntimeObject => ({ id, labels: labels(uid), state: 'SANDBOX_READY' });
const container = (id: string, uid: string, state = 'CONTAINER_RUNNING'): RuntimeObject => ({ id, labels: { ...labels(uid), 'io.kubernetes.container.name': id }, state });

describe('finding orphaned pods in the runtime listing', () => {
  it('groups the sandboxes and containers of a pod the kubelet does not know, with its name and namespace from the labels', () => {
    const got = findOrphanedPods([sandbox('s1', 'gone')], [container('c1', 'gone'), container('c2', 'gone', 'CONTAINER_EXITED')], () => false);
    expect(got).toEqual([{ uid: 'gone', name: 'pod-gone', namespace: 'default', sandboxIds: ['s1'], containerIds: ['c1', 'c2'], runningContainers: [{ id: 'c1', name: 'c1' }] }]);
  });

  it('leaves pods the kubelet knows alone', () => {
    const known = new Set(['mine']);
    const got = findOrphanedPods([sandbox('s1', 'mine'), sandbox('s2', 'gone')], [container('c1', 'mine'), container('c2', 'gone')], (uid) => known.has(uid));
    expect(got.map((p) => [p.uid, p.sandboxIds, p.containerIds])).toEqual([['gone', ['s2'], ['c2']]]);
  });

  it('ignores objects without the kubelet pod UID label, which other clients of a shared runtime made', () => {
    const foreign: RuntimeObject = { id: 'x', labels: { 'kubelet-harness/spec': 'cri' }, state: 'SANDBOX_READY' };
    expect(findOrphanedPods([foreign, { id: 'y', labels: null }], [{ id: 'z' }], () => false)).toEqual([]);
  });

  it('treats a container whose sandbox is already gone as part of its orphaned pod', () => {
    const got = findOrphanedPods([], [container('c1', 'gone', 'CONTAINER_CREATED')], () => false);
    expect(got).toEqual([{ uid: 'gone', name: 'pod-gone', namespace: 'default', sandboxIds: [], containerIds: ['c1'], runningContainers: [{ id: 'c1', name: 'c1' }] }]);
  });

  it('reads container states given as enum numbers too (2 = exited)', () => {
    const got = findOrphanedPods([], [{ id: 'c1', labels: labels('u'), state: 2 }, { id: 'c2', labels: labels('u'), state: 1 }], () => false);
    expect(got[0]?.runningContainers).toEqual([{ id: 'c2', name: '' }]);
  });

  it('stops orphaned containers with the 1 s orphan grace period floored at the 2 s minimum', () => {
    expect(ORPHAN_STOP_TIMEOUT_SECONDS).toBe(2);
  });
});

describe('finding orphaned pod directories and pod log directories', () => {
  it('reads the pod from a log directory name <namespace>_<name>_<uid>, and nothing from other names', () => {
    expect(parseLogDirectoryName('default_web_1f2e-33')).toEqual({ namespace: 'default', name: 'web', uid: '1f2e-33' });
    expect(parseLogDirectoryName('kube-system_etcd-node-a_abc')).toEqual({ namespace: 'kube-system', name: 'etcd-node-a', uid: 'abc' });
    expect(parseLogDirectoryName('lost+found')).toBeNull();
    expect(parseLogDirectoryName('only_one')).toBeNull();
    expect(parseLogDirectoryName('trailing_underscore_')).toBeNull();
    expect(parseLogDirectoryName('a_b_c_d')).toBeNull();
  });

  it('within a scope, cleans up only the pods and log directories it accepts, and no pod directory', () => {
    const mine = (p: { name: string; namespace: string }) => p.namespace === 'default' && p.name.startsWith('kh-');
    const sandboxes: RuntimeObject[] = [
      { id: 's1', labels: { 'io.kubernetes.pod.uid': 'u1', 'io.kubernetes.pod.name': 'kh-orphan', 'io.kubernetes.pod.namespace': 'default' } },
      { id: 's2', labels: { 'io.kubernetes.pod.uid': 'u2', 'io.kubernetes.pod.name': 'coredns-5d78', 'io.kubernetes.pod.namespace': 'kube-system' } },
    ];
    expect(findOrphanedPods(sandboxes, [], () => false, mine).map((p) => p.uid)).toEqual(['u1']);
    const dirs = findOrphanedDirectories(['u1', 'u2'], ['default_kh-orphan_u1', 'kube-system_coredns-5d78_u2'], () => false, () => false, mine);
    expect(dirs).toEqual({ podDirs: [], logDirs: ['default_kh-orphan_u1'] });
  });

  it('removes the directories of pods neither known nor still in the runtime, and keeps the rest', () => {
    const known = new Set(['kept']);
    const inRuntime = new Set(['stopping']);
    const got = findOrphanedDirectories(
      ['kept', 'gone', 'stopping', '.tmp'],
      ['default_a_kept', 'default_b_gone', 'default_c_stopping', 'README'],
      (uid) => known.has(uid),
      (uid) => inRuntime.has(uid),
    );
    expect(got).toEqual({ podDirs: ['gone'], logDirs: ['default_b_gone'] });
  });
});
