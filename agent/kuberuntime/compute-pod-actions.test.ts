import { describe, expect, it } from 'vitest';
import { computePodActions, podSandboxChanged, shouldContainerBeRestarted, type ProbeResultsView } from './compute-pod-actions.js';
import { container, ctr, pod, runtime, sandbox } from './test-fixtures.js';

const app = container('app');
const side = container('side', { restartPolicy: 'Always' });
const init1 = container('init1');
const init2 = container('init2');

function probesFor(results: Record<string, { liveness?: 'Success' | 'Failure'; startup?: 'Success' | 'Failure' | 'Unknown' }>): ProbeResultsView {
  return { liveness: (id) => results[id]?.liveness, startup: (id) => results[id]?.startup };
}

describe('computePodActions', () => {
  it('creates a sandbox and starts every app container for a new pod without init containers', () => {
    const p = pod({ containers: [app, container('b')] });
    const actions = computePodActions(p, runtime([]));
    expect(actions).toMatchObject({ createSandbox: true, killPod: true, attempt: 0, sandboxId: '', containersToStart: [0, 1] });
    expect(actions.initContainersToStart).toEqual([]);
  });

  it('starts only the first init container when a new sandbox is needed for a pod with init containers', () => {
    const p = pod({ initContainers: [init1, init2], containers: [app] });
    const actions = computePodActions(p, runtime([]));
    expect(actions.createSandbox).toBe(true);
    expect(actions.initContainersToStart).toEqual([0]);
    expect(actions.containersToStart).toEqual([]);
  });

  it('starts the next init container once the previous one exited 0, and no app container yet', () => {
    const p = pod({ initContainers: [init1, init2], containers: [app] });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(init1, 'exited')]));
    expect(actions.createSandbox).toBe(false);
    expect(actions.initContainersToStart).toEqual([1]);
    expect(actions.containersToStart).toEqual([]);
  });

  it('waits while a regular init container is running', () => {
    const p = pod({ initContainers: [init1, init2], containers: [app] });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(init1, 'running')]));
    expect(actions.initContainersToStart).toEqual([]);
    expect(actions.containersToStart).toEqual([]);
    expect(actions.killPod).toBe(false);
  });

  it('starts the app containers after the last init container exited 0', () => {
    const p = pod({ initContainers: [init1, init2], containers: [app] });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(init1, 'exited'), ctr(init2, 'exited')]));
    expect(actions.initContainersToStart).toEqual([]);
    expect(actions.containersToStart).toEqual([0]);
  });

  it('kills the pod when an init container fails and restartPolicy is Never', () => {
    const p = pod({ initContainers: [init1], containers: [app], restartPolicy: 'Never' });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(init1, 'exited', { exitCode: 1 })]));
    expect(actions.killPod).toBe(true);
    expect(actions.initContainersToStart).toEqual([]);
    expect(actions.containersToStart).toEqual([]);
  });

  it('restarts the same failed init container under OnFailure and Always', () => {
    for (const restartPolicy of ['OnFailure', 'Always']) {
      const p = pod({ initContainers: [init1, init2], containers: [app], restartPolicy });
      const actions = computePodActions(p, runtime([sandbox()], [ctr(init1, 'exited'), ctr(init2, 'exited', { exitCode: 2 })]));
      expect(actions.killPod).toBe(false);
      expect(actions.initContainersToStart).toEqual([1]);
    }
  });

  it('starts the init container after a running sidecar and keeps the sidecar', () => {
    const p = pod({ initContainers: [side, init1], containers: [app] });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(side, 'running')]));
    expect(actions.initContainersToStart).toEqual([1]);
    expect(actions.containersToKill).toEqual([]);
  });

  it('does not move past a sidecar whose startup probe has not succeeded yet', () => {
    const s = container('side', { restartPolicy: 'Always', startupProbe: { exec: { command: ['true'] } } });
    const p = pod({ initContainers: [s, init1], containers: [app] });
    const running = ctr(s, 'running');
    expect(computePodActions(p, runtime([sandbox()], [running])).initContainersToStart).toEqual([]);
    const ok = computePodActions(p, runtime([sandbox()], [running]), probesFor({ [running.id]: { startup: 'Success' } }));
    expect(ok.initContainersToStart).toEqual([1]);
    const failed = computePodActions(p, runtime([sandbox()], [running]), probesFor({ [running.id]: { startup: 'Failure' } }));
    expect(failed.initContainersToStart).toEqual([0]);
    expect(failed.containersToKill).toMatchObject([{ containerId: running.id, reason: 'StartupProbe' }]);
  });

  it('restarts an exited sidecar even when the pod restartPolicy is Never', () => {
    const p = pod({ initContainers: [side], containers: [app], restartPolicy: 'Never' });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(side, 'exited', { exitCode: 1 }), ctr(app, 'running')]));
    expect(actions.initContainersToStart).toEqual([0]);
    expect(actions.killPod).toBe(false);
  });

  it('kills and restarts a running container that failed liveness, unless restartPolicy is Never', () => {
    const running = ctr(app, 'running');
    const probes = probesFor({ [running.id]: { liveness: 'Failure' } });
    const always = computePodActions(pod({ containers: [app] }), runtime([sandbox()], [running]), probes);
    expect(always.containersToKill).toEqual([
      { containerId: running.id, name: 'app', message: 'Container app failed liveness probe, will be restarted', reason: 'LivenessProbe', isInit: false },
    ]);
    expect(always.containersToStart).toEqual([0]);
    expect(always.killPod).toBe(false);
    const never = computePodActions(pod({ containers: [app], restartPolicy: 'Never' }), runtime([sandbox()], [running]), probes);
    expect(never.containersToKill[0]?.message).toBe('Container app failed liveness probe');
    expect(never.containersToStart).toEqual([]);
    expect(never.killPod).toBe(true);
  });

  it('restarts a container whose image changed regardless of restartPolicy', () => {
    const old = ctr(app, 'running');
    const p = pod({ containers: [container('app', { image: 'registry.local/app:2' })], restartPolicy: 'Never' });
    const actions = computePodActions(p, runtime([sandbox()], [old]));
    expect(actions.containersToKill[0]?.message).toBe('Container app definition changed, will be restarted');
    expect(actions.containersToStart).toEqual([0]);
  });

  it('restarts exited containers per restartPolicy and kills the pod when nothing is left to run', () => {
    const ok = ctr(app, 'exited', { exitCode: 0 });
    const bad = ctr(app, 'exited', { exitCode: 3 });
    expect(computePodActions(pod({ restartPolicy: 'Always' }), runtime([sandbox()], [ok])).containersToStart).toEqual([0]);
    expect(computePodActions(pod({ restartPolicy: 'OnFailure' }), runtime([sandbox()], [bad])).containersToStart).toEqual([0]);
    const done = computePodActions(pod({ restartPolicy: 'OnFailure' }), runtime([sandbox()], [ok]));
    expect(done.containersToStart).toEqual([]);
    expect(done.killPod).toBe(true);
    expect(computePodActions(pod({ restartPolicy: 'Never' }), runtime([sandbox()], [bad])).killPod).toBe(true);
  });

  it('does not create a new sandbox for a Never pod whose sandbox died after running containers', () => {
    const p = pod({ restartPolicy: 'Never' });
    const actions = computePodActions(p, runtime([sandbox({ state: 'notready' })], [ctr(app, 'exited')]));
    expect(actions).toMatchObject({ killPod: true, createSandbox: false, attempt: 1, sandboxId: 'sb1' });
  });

  it('recreates a dead sandbox for an Always pod and starts again from the first init container', () => {
    const p = pod({ initContainers: [init1], containers: [app] });
    const actions = computePodActions(p, runtime([sandbox({ state: 'notready', attempt: 2 })], [ctr(init1, 'exited'), ctr(app, 'exited')]));
    expect(actions).toMatchObject({ killPod: true, createSandbox: true, attempt: 3, initContainersToStart: [0] });
  });

  it('does not recreate the sandbox of an OnFailure pod whose containers all succeeded', () => {
    const p = pod({ restartPolicy: 'OnFailure' });
    const actions = computePodActions(p, runtime([sandbox({ state: 'notready' })], [ctr(app, 'exited', { exitCode: 0 })]));
    expect(actions.createSandbox).toBe(false);
  });

  it('kills a container in unknown state before starting it again', () => {
    const unknown = ctr(app, 'unknown');
    const actions = computePodActions(pod({}), runtime([sandbox()], [unknown]));
    expect(actions.containersToKill).toMatchObject([{ containerId: unknown.id, reason: 'Unknown' }]);
    expect(actions.containersToStart).toEqual([0]);
  });
});

describe('podSandboxChanged', () => {
  it('asks for a new sandbox when the ready sandbox has no IP or the wrong network mode', () => {
    expect(podSandboxChanged(pod({}), runtime([sandbox({ ip: '' })])).changed).toBe(true);
    expect(podSandboxChanged(pod({ hostNetwork: true }), runtime([sandbox({ ip: '' })]))).toEqual({ changed: true, attempt: 1, sandboxId: '' });
    expect(podSandboxChanged(pod({ hostNetwork: true }), runtime([sandbox({ ip: '', hostNetwork: true })])).changed).toBe(false);
    expect(podSandboxChanged(pod({}), runtime([sandbox({ id: 'b' }), sandbox({ id: 'a' })])).changed).toBe(true);
  });
});

describe('shouldContainerBeRestarted', () => {
  it('never restarts containers of a pod being deleted', () => {
    const p = pod({}, { deletionTimestamp: new Date() });
    expect(shouldContainerBeRestarted(app, p, runtime([sandbox()], []))).toBe(false);
  });
});

describe('runtime status ordering', () => {
  it('takes the instance with the higher restart count as newest when creation times are equal', async () => {
    const { sortNewestFirst } = await import('./runtime-status.js');
    const older = ctr(app, 'exited', { createdAt: 5, restartCount: 0, id: 'zzz' });
    const newer = ctr(app, 'running', { createdAt: 5, restartCount: 1, id: 'aaa' });
    expect(sortNewestFirst([older, newer]).map((c) => c.id)).toEqual(['aaa', 'zzz']);
  });
});

describe('computePodActions with in-place resize', () => {
  const resized = container('app');
  const sidecar = container('side', { restartPolicy: 'Always' });

  it('lists a running container to update in place and keeps the pod', () => {
    const p = pod({ containers: [resized] });
    const actions = computePodActions(p, runtime([sandbox()], [ctr(resized, 'running')]), undefined, () => 'update');
    expect(actions.containersToUpdate).toEqual(['app']);
    expect(actions.containersToKill).toEqual([]);
    expect(actions.killPod).toBe(false);
  });

  it('kills and restarts a container whose resize requires a restart, even with restartPolicy Never', () => {
    const p = pod({ containers: [resized], restartPolicy: 'Never' });
    const running = ctr(resized, 'running');
    const actions = computePodActions(p, runtime([sandbox()], [running]), undefined, () => 'restart');
    expect(actions.containersToKill).toEqual([{ containerId: running.id, name: 'app', message: 'Container app resize requires restart', reason: '', isInit: false }]);
    expect(actions.containersToStart).toEqual([0]);
    expect(actions.containersToUpdate).toEqual([]);
    expect(actions.killPod).toBe(false);
  });

  it('resizes a running sidecar like a regular container', () => {
    const p = pod({ initContainers: [sidecar], containers: [resized] });
    const rt = runtime([sandbox()], [ctr(sidecar, 'running'), ctr(resized, 'running')]);
    const update = computePodActions(p, rt, undefined, (c) => (c.name === 'side' ? 'update' : 'none'));
    expect(update.containersToUpdate).toEqual(['side']);
    const restart = computePodActions(p, rt, undefined, (c) => (c.name === 'side' ? 'restart' : 'none'));
    expect(restart.containersToKill.map((k) => [k.name, k.message, k.isInit])).toEqual([['side', 'Init container side resize requires restart', true]]);
    expect(restart.initContainersToStart).toEqual([0]);
  });

  it('does not consult resize for a container that is not running', () => {
    const p = pod({ containers: [resized] });
    const asked: string[] = [];
    computePodActions(p, runtime([sandbox()], [ctr(resized, 'exited', { exitCode: 1 })]), undefined, (c) => {
      asked.push(c.name);
      return 'update';
    });
    expect(asked).toEqual([]);
  });
});
