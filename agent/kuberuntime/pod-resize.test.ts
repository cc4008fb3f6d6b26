import { describe, expect, it } from 'vitest';
import { changedResources, desiredResources, isResizeInProgress, planPodResize, resizeDecision, sharesToMilliCpu } from './pod-resize.js';
import type { CriResourceOptions } from './resources.js';
import { container, ctr, pod, runtime, sandbox } from './test-fixtures.js';

const options: CriResourceOptions = { memoryCapacityBytes: 8n * 1024n ** 3n };
const MI = 1024 * 1024;

function resources(cpuReq: string, cpuLim: string, memLim: string) {
  return { requests: { cpu: cpuReq, memory: '64Mi' }, limits: { cpu: cpuLim, memory: memLim } };
}

/** What the runtime reports applied for a container created with these resources. */
function applied(cpuShares: number, cpuQuota: number, memMi: number) {
  return { cpuShares, cpuQuota, cpuPeriod: 100_000, memoryLimitInBytes: memMi * MI };
}

describe('in-place resize decisions', () => {
  it('computes the desired CRI settings the same way container creation does', () => {
    const p = pod({ containers: [container('app', { resources: resources('250m', '500m', '128Mi') })] });
    expect(desiredResources(p, p.spec!.containers[0]!, options)).toEqual(applied(256, 50_000, 128));
  });

  it('sees a cpu change in shares or quota and a memory change in the limit; no limit counts the same however it is spelled', () => {
    expect(changedResources(applied(256, 50_000, 128), applied(256, 50_000, 128))).toEqual([]);
    expect(changedResources(applied(256, 50_000, 128), applied(102, 50_000, 128))).toEqual(['cpu']);
    expect(changedResources(applied(256, 50_000, 256), applied(256, 20_000, 128))).toEqual(['memory', 'cpu']);
    expect(changedResources({ cpuShares: 2, cpuQuota: 0, cpuPeriod: 100_000, memoryLimitInBytes: 0 }, { cpuShares: 2, cpuQuota: -1, cpuPeriod: 100_000, memoryLimitInBytes: 0 })).toEqual([]);
  });

  it('updates in place by default, restarts when the changed resource has RestartContainer, and does nothing without runtime figures', () => {
    const plain = container('app', { resources: resources('250m', '500m', '128Mi') });
    const memRestart = container('app', { resources: resources('250m', '500m', '128Mi'), resizePolicy: [{ resourceName: 'memory', restartPolicy: 'RestartContainer' }] });
    const p = pod({ containers: [plain] });
    expect(resizeDecision(p, plain, applied(102, 20_000, 128), options)).toBe('update');
    expect(resizeDecision(p, plain, applied(256, 50_000, 128), options)).toBe('none');
    expect(resizeDecision(p, plain, undefined, options)).toBe('none');
    const q = pod({ containers: [memRestart] });
    // Only cpu changed: memory's RestartContainer does not apply.
    expect(resizeDecision(q, memRestart, applied(102, 20_000, 128), options)).toBe('update');
    expect(resizeDecision(q, memRestart, applied(256, 50_000, 64), options)).toBe('restart');
  });

  it('reports a resize in progress while a running container or sidecar differs from its allocation', () => {
    const app = container('app', { resources: resources('250m', '500m', '128Mi') });
    const side = container('side', { restartPolicy: 'Always', resources: resources('100m', '100m', '64Mi') });
    const p = pod({ initContainers: [side], containers: [app] });
    const settled = runtime([sandbox()], [ctr(side, 'running', { resources: applied(102, 10_000, 64) }), ctr(app, 'running', { resources: applied(256, 50_000, 128) })]);
    expect(isResizeInProgress(p, settled, options)).toBe(false);
    const sideBehind = runtime([sandbox()], [ctr(side, 'running', { resources: applied(102, 10_000, 32) }), ctr(app, 'running', { resources: applied(256, 50_000, 128) })]);
    expect(isResizeInProgress(p, sideBehind, options)).toBe(true);
    const exited = runtime([sandbox()], [ctr(app, 'exited', { resources: applied(2, 0, 0) })]);
    expect(isResizeInProgress(p, exited, options)).toBe(false);
  });

  it('converts shares back to millicores as upstream does', () => {
    expect(sharesToMilliCpu(2)).toBe(0);
    expect(sharesToMilliCpu(102)).toBe(100);
    expect(sharesToMilliCpu(1024)).toBe(1000);
  });
});

describe('planPodResize', () => {
  it('grows the pod cgroup before the containers and shrinks it after them, memory before cpu', () => {
    const app = container('app', { resources: resources('500m', '1', '256Mi') });
    const p = pod({ containers: [app] });
    const rt = runtime([sandbox()], [ctr(app, 'running', { id: 'c-app', resources: applied(102, 20_000, 512) })]);
    const steps = planPodResize(p, rt, ['app'], options);
    expect(steps.map((s) => (s.kind === 'pod-cgroup' ? `pod ${s.resource}` : `${s.name} ${s.resource}`))).toEqual([
      'app memory', // memory shrinks 512Mi → 256Mi: container first,
      'pod memory', // then the pod
      'pod cpu', // cpu grows: pod first,
      'app cpu', // then the container
    ]);
    const [memStep, , , cpuStep] = steps;
    // The memory step keeps the cpu settings as they stand; the cpu step carries the new memory limit.
    expect(memStep).toMatchObject({ kind: 'container', containerId: 'c-app', resources: { cpuShares: 102, cpuQuota: 20_000, memoryLimitInBytes: 256 * MI } });
    expect(cpuStep).toMatchObject({ kind: 'container', resources: { cpuShares: 512, cpuQuota: 100_000, cpuPeriod: 100_000, memoryLimitInBytes: 256 * MI } });
  });

  it('updates the containers that shrink before those that grow, and only the named running ones', () => {
    const a = container('a', { resources: resources('100m', '200m', '128Mi') });
    const b = container('b', { resources: resources('300m', '400m', '128Mi') });
    const c = container('c', { resources: resources('300m', '400m', '128Mi') });
    const p = pod({ containers: [a, b, c] });
    const rt = runtime([sandbox()], [
      ctr(a, 'running', { resources: applied(307, 40_000, 128) }), // shrinks
      ctr(b, 'running', { resources: applied(102, 20_000, 128) }), // grows
      ctr(c, 'running', { resources: applied(102, 20_000, 128) }), // not named
    ]);
    const steps = planPodResize(p, rt, ['b', 'a'], options);
    // Total shares 409 → 409 and quota 60000 → 60000: the pod cgroup stays as it is.
    expect(steps.map((s) => (s.kind === 'pod-cgroup' ? `pod ${s.resource}` : `${s.name} ${s.resource}`))).toEqual(['a cpu', 'b cpu']);
  });

  it('plans nothing for a container the runtime reports no figures for', () => {
    const app = container('app', { resources: resources('500m', '1', '256Mi') });
    const p = pod({ containers: [app] });
    expect(planPodResize(p, runtime([sandbox()], [ctr(app, 'running')]), ['app'], options)).toEqual([]);
  });
});
