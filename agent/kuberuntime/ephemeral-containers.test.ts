import type { V1EphemeralContainer, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerRef } from '../api/events.js';
import { podRequests } from '../resources/pod-requests.js';
import { podQOSClass } from '../resources/qos.js';
import { generateApiPodStatus } from '../status/generate.js';
import { computePodActions } from './compute-pod-actions.js';
import { generateContainerConfig } from './container-config.js';
import { ephemeralContainersOf, ephemeralContainersToStart, targetContainerId, TargetContainerError, withPidTarget } from './ephemeral-containers.js';
import { container, ctr, pod, runtime, sandbox } from './test-fixtures.js';

const app = container('app');
const init1 = container('init1');
const dbg: V1EphemeralContainer = { name: 'dbg', image: 'registry.local/busybox:1', targetContainerName: 'app', command: ['sleep', '3600'] };

function withDebugger(p: V1Pod, ...ecs: V1EphemeralContainer[]): V1Pod {
  return { ...p, spec: { ...p.spec!, ephemeralContainers: ecs } };
}

describe('ephemeral containers in the pure kuberuntime logic', () => {
  it('turns the spec list into containers without the target field', () => {
    const p = withDebugger(pod({}), dbg);
    expect(ephemeralContainersOf(p)).toEqual([{ name: 'dbg', image: 'registry.local/busybox:1', command: ['sleep', '3600'] }]);
  });

  it('starts every ephemeral container that has no runtime instance, and never one that ran', () => {
    const p = withDebugger(pod({}), dbg, { name: 'dbg2', image: 'registry.local/busybox:1' });
    const running = ctr(app, 'running');
    expect(ephemeralContainersToStart(p, runtime([sandbox()], [running]))).toEqual([0, 1]);
    const exited = ctr({ name: 'dbg', image: dbg.image! }, 'exited', { exitCode: 3 });
    expect(ephemeralContainersToStart(p, runtime([sandbox()], [running, exited]))).toEqual([1]);
    // Whatever the pod's restart policy, an exited ephemeral container stays exited.
    const actions = computePodActions(p, runtime([sandbox()], [running, exited, ctr({ name: 'dbg2', image: dbg.image! }, 'exited', { exitCode: 1 })]));
    expect(actions.ephemeralContainersToStart).toEqual([]);
    expect(actions.containersToStart).toEqual([]);
    expect(actions.killPod).toBe(false);
  });

  it('computes ephemeral starts while an init container still runs, but not when the sandbox must be created', () => {
    const p = withDebugger(pod({ initContainers: [init1], containers: [app] }), { ...dbg, targetContainerName: 'init1' });
    const initializing = computePodActions(p, runtime([sandbox()], [ctr(init1, 'running')]));
    expect(initializing.ephemeralContainersToStart).toEqual([0]);
    expect(initializing.containersToStart).toEqual([]);
    const fresh = computePodActions(p, runtime([]));
    expect(fresh.createSandbox).toBe(true);
    expect(fresh.ephemeralContainersToStart).toEqual([]);
  });

  it("names the target's CRI id only while the target runs", () => {
    const p = withDebugger(pod({}), dbg, { name: 'plain', image: 'x' });
    const running = ctr(app, 'running');
    expect(targetContainerId(p, 0, runtime([sandbox()], [running]))).toBe(running.id);
    expect(targetContainerId(p, 1, runtime([sandbox()], [running]))).toBeUndefined();
    expect(() => targetContainerId(p, 0, runtime([sandbox()], [ctr(app, 'exited')]))).toThrow(new TargetContainerError('unable to find target container app'));
    expect(() => targetContainerId(p, 0, runtime([sandbox()]))).toThrow('unable to find target container app');
  });

  it("joins the target's PID namespace only when the pod does not already share one", () => {
    expect(withPidTarget({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, 'abc')).toEqual({ network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'abc' });
    expect(withPidTarget({ network: 'POD', pid: 'POD', ipc: 'POD' }, 'abc')).toEqual({ network: 'POD', pid: 'POD', ipc: 'POD' });
    expect(withPidTarget({ network: 'NODE', pid: 'NODE', ipc: 'NODE' }, 'abc')).toEqual({ network: 'NODE', pid: 'NODE', ipc: 'NODE' });
    expect(withPidTarget({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, undefined)).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  });

  it('leaves QoS class and admission requests to the other containers', () => {
    const resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
    const guaranteed = pod({ containers: [container('app', { resources })] });
    const debugged = withDebugger(guaranteed, dbg);
    expect(podQOSClass(debugged)).toBe('Guaranteed');
    const asText = (r: ReturnType<typeof podRequests>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.toString()]));
    expect(asText(podRequests(debugged))).toEqual(asText(podRequests(guaranteed)));
  });

  it('refers to an ephemeral container in events as spec.ephemeralContainers{name}', () => {
    const p = withDebugger(pod({ initContainers: [init1] }), dbg);
    expect(containerRef(p, ephemeralContainersOf(p)[0]!).fieldPath).toBe('spec.ephemeralContainers{dbg}');
    expect(containerRef(p, init1).fieldPath).toBe('spec.initContainers{init1}');
    expect(containerRef(p, app).fieldPath).toBe('spec.containers{app}');
  });

  it('puts the target into the container config it generates', () => {
    const p = withDebugger(pod({}), dbg);
    const config = generateContainerConfig(p, ephemeralContainersOf(p)[0]!, {
      restartCount: 0,
      imageRef: 'sha256:busybox',
      volumes: new Map(),
      resources: { memoryCapacityBytes: 8n * 1024n ** 3n },
      nodeName: 'n1',
      hostIPs: [],
      podIPs: [],
      configMap: () => undefined,
      secret: () => undefined,
      nodeAllocatable: { cpuMilli: 4000n, memoryBytes: 8n << 30n },
      pidTargetId: 'c-app-1',
    });
    expect(config.linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'c-app-1' });
    expect(config.labels?.['io.kubernetes.container.name']).toBe('dbg');
  });
});

describe('ephemeral container statuses', () => {
  const gen = (p: V1Pod, rt: ReturnType<typeof runtime>) => generateApiPodStatus({ pod: p, runtime: rt, podIsTerminal: false, qosClass: 'BestEffort', runtimeName: 'fake' });

  it('reports each one with state, containerID, image, imageID and restartCount 0, without started, sorted by name', () => {
    const p = withDebugger(pod({}), { ...dbg, name: 'zeta' }, dbg);
    const running = ctr(app, 'running');
    const zeta = ctr({ name: 'zeta', image: dbg.image! }, 'exited', { exitCode: 3, reason: 'Error' });
    const d = ctr({ name: 'dbg', image: dbg.image! }, 'running');
    const s = gen(p, runtime([sandbox()], [running, zeta, d]));
    expect(s.ephemeralContainerStatuses).toEqual([
      { name: 'dbg', image: dbg.image, imageID: 'sha256:dbg', containerID: `fake://${d.id}`, ready: false, restartCount: 0, state: { running: { startedAt: new Date(d.startedAt) } } },
      {
        name: 'zeta',
        image: dbg.image,
        imageID: 'sha256:zeta',
        containerID: `fake://${zeta.id}`,
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode: 3, reason: 'Error', message: '', startedAt: new Date(zeta.startedAt), finishedAt: new Date(zeta.finishedAt), containerID: `fake://${zeta.id}` } },
      },
    ]);
  });

  it('leaves phase and readiness to the regular containers', () => {
    const p = withDebugger(pod({}), dbg);
    const s = gen(p, runtime([sandbox()], [ctr(app, 'running'), ctr({ name: 'dbg', image: dbg.image! }, 'exited', { exitCode: 1 })]));
    expect(s.phase).toBe('Running');
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    const before = gen(p, runtime([sandbox()], [ctr(app, 'running')]));
    expect(before.ephemeralContainerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
    expect(gen(pod({}), runtime([sandbox()], [ctr(app, 'running')])).ephemeralContainerStatuses).toBeUndefined();
  });
});
