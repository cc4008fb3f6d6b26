import type { V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { container, ctr, pod, runtime, sandbox } from '../kuberuntime/test-fixtures.js';
import { generateApiPodStatus, probeStatusFromSpec, type GenerateStatusInput } from './generate.js';

const app = container('app');
const init1 = container('init1');
const init2 = container('init2');

function gen(input: Partial<GenerateStatusInput> & Pick<GenerateStatusInput, 'pod' | 'runtime'>): V1PodStatus {
  return generateApiPodStatus({ podIsTerminal: false, qosClass: 'BestEffort', runtimeName: 'fake', ...input });
}

function cond(status: V1PodStatus, type: string): { status: string; reason?: string; message?: string } | undefined {
  const c = status.conditions?.find((x) => x.type === type);
  if (!c) return undefined;
  const out: { status: string; reason?: string; message?: string } = { status: c.status };
  if (c.reason !== undefined) out.reason = c.reason;
  if (c.message !== undefined) out.message = c.message;
  return out;
}

describe('generateApiPodStatus', () => {
  it('reports a new pod as Pending with ContainerCreating and not-ready conditions', () => {
    const s = gen({ pod: pod({}), runtime: runtime([]) });
    expect(s.phase).toBe('Pending');
    expect(s.containerStatuses).toEqual([
      { name: 'app', image: app.image, imageID: '', ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } } },
    ]);
    expect(cond(s, 'PodReadyToStartContainers')).toEqual({ status: 'False' });
    expect(cond(s, 'Initialized')).toEqual({ status: 'True' });
    expect(cond(s, 'Ready')).toEqual({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    expect(cond(s, 'ContainersReady')).toEqual({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    expect(cond(s, 'PodScheduled')).toEqual({ status: 'True' });
    expect(s.conditions?.map((c) => c.type)).toEqual(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  });

  it('reports a running container without probes as started and ready, with pod IP and containerID', () => {
    const running = ctr(app, 'running');
    const s = gen({ pod: pod({}), runtime: runtime([sandbox()], [running]), hostIPs: ['192.168.1.2'] });
    expect(s.phase).toBe('Running');
    expect(s.podIP).toBe('10.0.0.5');
    expect(s.podIPs).toEqual([{ ip: '10.0.0.5' }]);
    expect(s.hostIP).toBe('192.168.1.2');
    expect(s.containerStatuses?.[0]).toMatchObject({ ready: true, started: true, containerID: `fake://${running.id}`, imageID: 'sha256:app' });
    expect(s.containerStatuses?.[0]?.state?.running?.startedAt).toEqual(new Date(running.startedAt));
    for (const t of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) {
      expect(cond(s, t)).toEqual({ status: 'True' });
    }
  });

  it('keeps a container with a readiness probe unready until the probe succeeds', () => {
    const probed = container('app', { readinessProbe: { httpGet: { port: 80 } } });
    const p = pod({ containers: [probed] });
    const running = ctr(probed, 'running');
    const before = gen({ pod: p, runtime: runtime([sandbox()], [running]) });
    expect(before.containerStatuses?.[0]).toMatchObject({ started: true, ready: false });
    const probes = { ...probeStatusFromSpec(p), readiness: (id: string) => (id === running.id ? ('Success' as const) : undefined) };
    const after = gen({ pod: p, runtime: runtime([sandbox()], [running]), probes });
    expect(after.containerStatuses?.[0]).toMatchObject({ started: true, ready: true });
  });

  it('keeps a container with a startup probe not started until the probe succeeds', () => {
    const probed = container('app', { startupProbe: { exec: { command: ['true'] } } });
    const p = pod({ containers: [probed] });
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(probed, 'running')]) });
    expect(s.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
  });

  it('reports init progress: Pending, PodInitializing and Initialized False listing incomplete init containers', () => {
    const p = pod({ initContainers: [init1, init2], containers: [app] });
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(init1, 'running')]) });
    expect(s.phase).toBe('Pending');
    expect(s.initContainerStatuses?.map((c) => c.name)).toEqual(['init1', 'init2']);
    expect(s.initContainerStatuses?.[0]?.state?.running).toBeDefined();
    expect(s.initContainerStatuses?.[1]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(s.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(cond(s, 'Initialized')).toEqual({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [init1 init2]',
    });
  });

  it('marks init containers that exited 0 ready and the pod Initialized', () => {
    const p = pod({ initContainers: [init1], containers: [app] });
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(init1, 'exited'), ctr(app, 'running')]) });
    expect(s.initContainerStatuses?.[0]).toMatchObject({ ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } });
    expect(cond(s, 'Initialized')).toEqual({ status: 'True' });
    expect(s.phase).toBe('Running');
  });

  it('fails a Never pod whose init container failed', () => {
    const p = pod({ initContainers: [init1], containers: [app], restartPolicy: 'Never' });
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(init1, 'exited', { exitCode: 1, reason: 'Error' })]) });
    expect(s.phase).toBe('Failed');
    expect(cond(s, 'ContainersReady')).toEqual({ status: 'False', reason: 'PodFailed' });
    expect(cond(s, 'Ready')).toEqual({ status: 'False', reason: 'PodFailed' });
  });

  it('reports Failed for a Never pod whose container exited non-zero and Succeeded for an OnFailure pod that exited 0', () => {
    const failed = gen({ pod: pod({ restartPolicy: 'Never' }), runtime: runtime([sandbox()], [ctr(app, 'exited', { exitCode: 2, reason: 'Error' })]) });
    expect(failed.phase).toBe('Failed');
    const done = gen({ pod: pod({ restartPolicy: 'OnFailure' }), runtime: runtime([sandbox()], [ctr(app, 'exited')]) });
    expect(done.phase).toBe('Succeeded');
    expect(cond(done, 'ContainersReady')).toEqual({ status: 'False', reason: 'PodCompleted' });
    expect(cond(done, 'Initialized')).toEqual({ status: 'True', reason: 'PodCompleted' });
  });

  it('keeps an Always pod Running while its container crash-loops, waiting with the backoff reason', () => {
    const first = ctr(app, 'exited', { exitCode: 1, reason: 'Error', restartCount: 0 });
    const second = ctr(app, 'exited', { exitCode: 1, reason: 'Error', restartCount: 1 });
    const startFailures = new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-1)' }]]);
    const s = gen({ pod: pod({}), runtime: runtime([sandbox()], [first, second]), startFailures });
    expect(s.phase).toBe('Running');
    const cs = s.containerStatuses?.[0];
    expect(cs?.restartCount).toBe(1);
    expect(cs?.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=web_default(uid-1)' } });
    expect(cs?.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error', containerID: `fake://${second.id}` });
  });

  it('shows the previous instance as lastState while the new one runs', () => {
    const first = ctr(app, 'exited', { exitCode: 137, reason: 'Error' });
    const second = ctr(app, 'running', { restartCount: 1 });
    const s = gen({ pod: pod({}), runtime: runtime([sandbox()], [first, second]) });
    expect(s.containerStatuses?.[0]?.state?.running).toBeDefined();
    expect(s.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(137);
    expect(s.containerStatuses?.[0]?.restartCount).toBe(1);
  });

  it('waits with ErrImagePull when the image could not be pulled', () => {
    const startFailures = new Map([['app', { reason: 'ErrImagePull', message: 'pull failed' }]]);
    const s = gen({ pod: pod({}), runtime: runtime([sandbox()]), startFailures });
    expect(s.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ErrImagePull', message: 'pull failed' } });
    expect(s.phase).toBe('Pending');
  });

  it('never moves a pod out of a terminal phase', () => {
    const s = gen({
      pod: pod({}),
      runtime: runtime([sandbox()], [ctr(app, 'running')]),
      oldStatus: { phase: 'Failed', reason: 'OutOfcpu', message: 'Node didn\'t have enough resource: cpu' },
    });
    expect(s.phase).toBe('Failed');
    expect(s.reason).toBe('OutOfcpu');
  });

  it('reports Succeeded or Failed for a terminating Always pod once every container stopped', () => {
    const stoppedOk = gen({ pod: pod({}), runtime: runtime([sandbox()], [ctr(app, 'exited')]), podIsTerminal: true });
    expect(stoppedOk.phase).toBe('Succeeded');
    const stoppedBad = gen({ pod: pod({}), runtime: runtime([sandbox()], [ctr(app, 'exited', { exitCode: 143 })]), podIsTerminal: true });
    expect(stoppedBad.phase).toBe('Failed');
  });

  it('lists regular container statuses by name and init container statuses in spec order', () => {
    const p = pod({ initContainers: [init2, init1], containers: [container('zeta'), container('alpha')] });
    const s = gen({ pod: p, runtime: runtime([]) });
    expect(s.containerStatuses?.map((c) => c.name)).toEqual(['alpha', 'zeta']);
    expect(s.initContainerStatuses?.map((c) => c.name)).toEqual(['init2', 'init1']);
  });

  it('holds Ready False while a readiness gate is not True and keeps conditions it does not own', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    p.status = { conditions: [{ type: 'example.com/lb', status: 'False' }] };
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(app, 'running')]) });
    expect(cond(s, 'ContainersReady')).toEqual({ status: 'True' });
    expect(cond(s, 'Ready')).toEqual({
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: 'the status of pod readiness gate "example.com/lb" is not "True", but False',
    });
    expect(s.conditions?.[0]?.type).toBe('example.com/lb');
  });

  it('counts a running sidecar toward ContainersReady and keeps the pod Pending until it is started', () => {
    const side = container('side', { restartPolicy: 'Always', startupProbe: { exec: { command: ['true'] } } });
    const p = pod({ initContainers: [side], containers: [app] });
    const s = gen({ pod: p, runtime: runtime([sandbox()], [ctr(side, 'running')]) });
    expect(s.phase).toBe('Pending');
    expect(cond(s, 'Initialized')?.message).toBe('containers with incomplete status: [side]');
    expect(cond(s, 'ContainersReady')?.message).toBe('containers with unready status: [side app]');
  });

  it('uses the host IP as pod IP for hostNetwork pods', () => {
    const s = gen({ pod: pod({ hostNetwork: true }), runtime: runtime([sandbox({ ip: '', hostNetwork: true })]), hostIPs: ['192.168.1.2'] });
    expect(s.podIP).toBe('192.168.1.2');
  });
});
