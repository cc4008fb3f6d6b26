import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryEventRecorder } from '../api/events.js';
import { CriError } from '../runtime/rpc-error.js';
import { OrphanCleanup, type OrphanCleanupOptions } from './orphan-cleanup.js';

/** A stand-in runtime: one listing, every mutating call recorded (or failed as scripted). */
function stubCri(listing: { sandboxes: Array<{ id: string; uid: string }>; containers: Array<{ id: string; uid: string; state: string; name?: string }> }, fail: Record<string, Error> = {}) {
  const calls: string[] = [];
  let releaseList: () => void = () => undefined;
  const listed = new Promise<void>((r) => (releaseList = r));
  const labels = (uid: string) => ({ 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': uid, 'io.kubernetes.pod.namespace': 'default' });
  const record = (what: string) => async () => {
    calls.push(what);
    const err = fail[what];
    if (err) throw err;
    return {};
  };
  const cri = {
    listPodSandbox: async () => {
      calls.push('listPodSandbox');
      await listed;
      return { items: listing.sandboxes.map((s) => ({ id: s.id, labels: labels(s.uid), state: 'SANDBOX_READY' })) };
    },
    listContainers: async () => ({ containers: listing.containers.map((c) => ({ id: c.id, labels: { ...labels(c.uid), 'io.kubernetes.container.name': c.name ?? c.id }, state: c.state })) }),
    stopContainer: (req: { containerId: string; timeout: number }) => record(`stop ${req.containerId} ${req.timeout}`)(),
    removeContainer: (req: { containerId: string }) => record(`rm ${req.containerId}`)(),
    stopPodSandbox: (req: { podSandboxId: string }) => record(`stopp ${req.podSandboxId}`)(),
    removePodSandbox: (req: { podSandboxId: string }) => record(`rmp ${req.podSandboxId}`)(),
  } as unknown as OrphanCleanupOptions['cri'];
  return { cri, calls, releaseList };
}

const notFound = new CriError({ rpc: 'RuntimeService/StopContainer', code: 5, details: 'not found' });

describe('the orphan cleanup pass', () => {
  it('waits for every pod source before it lists the runtime', async () => {
    const rt = stubCri({ sandboxes: [], containers: [] });
    rt.releaseList();
    let ready: () => void = () => undefined;
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: () => new Promise((r) => (ready = r)), knownPods: () => new Set() });
    const pass = cleanup.cleanup();
    await new Promise((r) => setTimeout(r, 10));
    expect(rt.calls).toEqual([]);
    ready();
    expect(await pass).toEqual({ pods: [], podDirs: [], logDirs: [] });
    expect(rt.calls).toEqual(['listPodSandbox']);
  });

  it('reads the known pods after the listing returned, so a pod admitted while it was listed is left alone', async () => {
    const rt = stubCri({ sandboxes: [{ id: 's-new', uid: 'new' }, { id: 's-old', uid: 'old' }], containers: [{ id: 'c-new', uid: 'new', state: 'CONTAINER_RUNNING' }] });
    const known = new Set<string>();
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => known });
    const pass = cleanup.cleanup();
    await new Promise((r) => setTimeout(r, 10));
    known.add('new'); // admitted (and its sandbox created) while the listing was under way
    rt.releaseList();
    const cleaned = await pass;
    expect(cleaned.pods.map((p) => p.uid)).toEqual(['old']);
    expect(rt.calls).toEqual(['listPodSandbox', 'stopp s-old', 'rmp s-old']);
  });

  it('uses a listing the caller hands in once the sources have been ready, and lists afresh before that', async () => {
    const rt = stubCri({ sandboxes: [{ id: 'fresh', uid: 'gone' }], containers: [] });
    rt.releaseList();
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set() });
    const stale = { sandboxes: [{ id: 'stale', labels: { 'io.kubernetes.pod.uid': 'old' }, state: 'SANDBOX_READY' }], containers: [] };
    expect((await cleanup.cleanup(stale)).pods.map((p) => p.sandboxIds)).toEqual([['fresh']]);
    rt.calls.length = 0;
    expect((await cleanup.cleanup(stale)).pods.map((p) => p.sandboxIds)).toEqual([['stale']]);
    expect(rt.calls).toEqual(['stopp stale', 'rmp stale']);
  });

  it('reports each orphan the runtime still runs (a live container or a ready sandbox), not one whose containers all exited in a not-ready sandbox', async () => {
    const rt = stubCri({ sandboxes: [], containers: [] });
    rt.releaseList();
    const running: string[] = [];
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set(), onRunningOrphan: (p) => running.push(p.uid) });
    const labels = (uid: string) => ({ 'io.kubernetes.pod.uid': uid, 'io.kubernetes.pod.name': uid, 'io.kubernetes.pod.namespace': 'default' });
    const listing = {
      sandboxes: [
        { id: 's-live', labels: labels('live'), state: 'SANDBOX_NOTREADY' },
        { id: 's-ready', labels: labels('ready'), state: 'SANDBOX_READY' },
        { id: 's-dead', labels: labels('dead'), state: 'SANDBOX_NOTREADY' },
      ],
      containers: [
        { id: 'c-live', labels: labels('live'), state: 'CONTAINER_RUNNING' },
        { id: 'c-dead', labels: labels('dead'), state: 'CONTAINER_EXITED' },
      ],
    };
    await cleanup.cleanup(listing);
    // The first pass lists afresh (the stub's listing is empty); the second uses the one handed in.
    expect(running).toEqual([]);
    await cleanup.cleanup(listing);
    expect(running.sort()).toEqual(['live', 'ready']);
  });

  it('runs one pass at a time: a call during a pass joins it', async () => {
    const rt = stubCri({ sandboxes: [{ id: 's1', uid: 'gone' }], containers: [] });
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set() });
    const a = cleanup.cleanup();
    const b = cleanup.cleanup();
    expect(b).toBe(a);
    rt.releaseList();
    await a;
    expect(rt.calls.filter((c) => c === 'listPodSandbox')).toHaveLength(1);
  });

  it('stops running containers before the sandbox, removes logs before each container, ignores NotFound and goes on to the next pod after a failure', async () => {
    const rt = stubCri(
      {
        sandboxes: [{ id: 's1', uid: 'a' }, { id: 's2', uid: 'b' }],
        containers: [
          { id: 'c1', uid: 'a', state: 'CONTAINER_RUNNING' },
          { id: 'c2', uid: 'a', state: 'CONTAINER_EXITED' },
          { id: 'c3', uid: 'b', state: 'CONTAINER_RUNNING' },
        ],
      },
      { 'stop c1 2': notFound, 'stopp s1': new Error('runtime is busy') },
    );
    rt.releaseList();
    const logs: string[] = [];
    const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set(), beforeRemoveContainer: (id) => void logs.push(id), log: (m) => logs.push(m) });
    await cleanup.cleanup();
    expect(rt.calls).toEqual(['listPodSandbox', 'stop c1 2', 'stopp s1', 'stop c3 2', 'stopp s2', 'rm c3', 'rmp s2']);
    expect(logs).toContain('housekeeping: orphaned pod a: error killing pod: failed to "KillPodSandbox" for "a" with KillPodSandboxError: "runtime is busy"');
    expect(logs.filter((l) => l.startsWith('c'))).toEqual(['c3']);
  });

  it('records a Killing event for each running container of an orphan, on the pod as the runtime names it, and none for exited containers', async () => {
    const rt = stubCri({
      sandboxes: [{ id: 's1', uid: 'gone' }],
      containers: [
        { id: 'c1', uid: 'gone', state: 'CONTAINER_RUNNING', name: 'app' },
        { id: 'c2', uid: 'gone', state: 'CONTAINER_RUNNING', name: 'sidecar' },
        { id: 'c3', uid: 'gone', state: 'CONTAINER_EXITED', name: 'init' },
      ],
    });
    rt.releaseList();
    const recorder = new MemoryEventRecorder();
    await new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set(), recorder }).cleanup();
    const pod = { apiVersion: 'v1', kind: 'Pod', name: 'gone', namespace: 'default', uid: 'gone' };
    expect(recorder.events).toEqual([
      { ref: { ...pod, fieldPath: 'spec.containers{app}' }, type: 'Normal', reason: 'Killing', message: 'Stopping container app' },
      { ref: { ...pod, fieldPath: 'spec.containers{sidecar}' }, type: 'Normal', reason: 'Killing', message: 'Stopping container sidecar' },
    ]);
    expect(rt.calls).toEqual(['listPodSandbox', 'stop c1 2', 'stop c2 2', 'stopp s1', 'rm c1', 'rm c2', 'rm c3', 'rmp s1']);
  });

  it('stops the sandboxes even when a container will not stop, then records FailedKillPod naming each failure and leaves the pod for the next pass', async () => {
    const rt = stubCri(
      { sandboxes: [{ id: 's1', uid: 'gone' }], containers: [{ id: 'c1', uid: 'gone', state: 'CONTAINER_RUNNING', name: 'app' }] },
      { 'stop c1 2': new Error('deadline exceeded'), 'stopp s1': new Error('network teardown failed') },
    );
    rt.releaseList();
    const recorder = new MemoryEventRecorder();
    const logs: string[] = [];
    const report = await new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set(), recorder, log: (m) => logs.push(m) }).cleanup();
    expect(rt.calls).toEqual(['listPodSandbox', 'stop c1 2', 'stopp s1']);
    const message =
      'error killing pod: [failed to "KillContainer" for "app" with KillContainerError: "deadline exceeded", failed to "KillPodSandbox" for "gone" with KillPodSandboxError: "network teardown failed"]';
    expect(recorder.events.map((e) => [e.type, e.reason, e.message, e.ref.fieldPath])).toEqual([
      ['Normal', 'Killing', 'Stopping container app', 'spec.containers{app}'],
      ['Warning', 'FailedKillPod', message, undefined],
    ]);
    expect(logs).toContain(`housekeeping: orphaned pod gone: ${message}`);
    expect(report.pods.map((p) => p.uid)).toEqual(['gone']);
  });

  it('removes the pod and log directories of unknown pods once their runtime objects are gone, keeping known pods, pods left in the runtime and pods with CSI volumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orphan-dirs-'));
    try {
      const rootDir = join(dir, 'root');
      const podLogsDir = join(dir, 'logs');
      const volume = (uid: string, plugin: string, name: string) => {
        const d = join(rootDir, 'pods', uid, 'volumes', plugin, name);
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'f'), 'data');
      };
      for (const uid of ['known', 'deleted', 'stuck', 'csi']) {
        volume(uid, 'kubernetes.io~empty-dir', 'data');
        mkdirSync(join(podLogsDir, `default_${uid}-pod_${uid}`, 'app'), { recursive: true });
      }
      mkdirSync(join(rootDir, 'pods', 'csi', 'volumes', 'kubernetes.io~csi', 'pv-1', 'mount'), { recursive: true });
      // 'stuck' still has a sandbox the runtime will not stop.
      const rt = stubCri({ sandboxes: [{ id: 's-stuck', uid: 'stuck' }], containers: [] }, { 'stopp s-stuck': new Error('busy') });
      rt.releaseList();
      const logs: string[] = [];
      const cleanup = new OrphanCleanup({ cri: rt.cri, sourcesReady: async () => undefined, knownPods: () => new Set(['known']), rootDir, podLogsDir, log: (m) => logs.push(m) });
      const report = await cleanup.cleanup();
      expect(report.podDirs).toEqual(['deleted']);
      expect([...report.logDirs].sort()).toEqual(['default_csi-pod_csi', 'default_deleted-pod_deleted']);
      expect(existsSync(join(rootDir, 'pods', 'deleted'))).toBe(false);
      expect(existsSync(join(podLogsDir, 'default_deleted-pod_deleted'))).toBe(false);
      for (const uid of ['known', 'stuck', 'csi']) expect(existsSync(join(rootDir, 'pods', uid, 'volumes'))).toBe(true);
      expect(existsSync(join(podLogsDir, 'default_known-pod_known'))).toBe(true);
      expect(existsSync(join(podLogsDir, 'default_stuck-pod_stuck'))).toBe(true);
      expect(logs.some((l) => l.includes('orphaned pod csi found, but its CSI volumes (pv-1) are not cleaned up'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
