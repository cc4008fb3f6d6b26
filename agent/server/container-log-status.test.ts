import type { V1ContainerStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { containerForLogs, runtimeContainerId } from './container-log-status.js';

const status = (cs: Partial<V1ContainerStatus>): V1ContainerStatus => ({ name: 'app', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...cs });
const terminated = (containerID: string) => ({ terminated: { exitCode: 1, containerID } });

describe('choosing the container instance for logs', () => {
  it('reads the running instance, or with previous the one before it', () => {
    const cs = status({ containerID: 'containerd://b', state: { running: {} }, lastState: terminated('containerd://a') });
    expect(containerForLogs('web', { containerStatuses: [cs] }, 'app', false)).toEqual({ containerId: 'containerd://b' });
    expect(containerForLogs('web', { containerStatuses: [cs] }, 'app', true)).toEqual({ containerId: 'containerd://a' });
  });

  it('says there is no previous instance when none terminated', () => {
    const cs = status({ containerID: 'containerd://b', state: { running: {} } });
    expect(containerForLogs('web', { containerStatuses: [cs] }, 'app', true)).toEqual({ error: 'previous terminated container "app" in pod "web" not found' });
  });

  it('reads a terminated instance, falling back to the last one when the next did not start', () => {
    expect(containerForLogs('web', { containerStatuses: [status({ state: terminated('containerd://t') })] }, 'app', false)).toEqual({ containerId: 'containerd://t' });
    const waitingAfterCrash = status({ state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: terminated('containerd://l') });
    expect(containerForLogs('web', { containerStatuses: [waitingAfterCrash] }, 'app', false)).toEqual({ containerId: 'containerd://l' });
    expect(containerForLogs('web', { containerStatuses: [status({ state: terminated('') })] }, 'app', false)).toEqual({ error: 'container "app" in pod "web" is terminated' });
  });

  it('explains a container that has not started, with the image pull reasons spelled out', () => {
    const waiting = (reason: string) => ({ containerStatuses: [status({ state: { waiting: { reason } } })] });
    expect(containerForLogs('web', waiting('ContainerCreating'), 'app', false)).toEqual({ error: 'container "app" in pod "web" is waiting to start: ContainerCreating' });
    expect(containerForLogs('web', waiting('ErrImagePull'), 'app', false)).toEqual({ error: `container "app" in pod "web" is waiting to start: image can't be pulled` });
    expect(containerForLogs('web', waiting('ImagePullBackOff'), 'app', false)).toEqual({ error: 'container "app" in pod "web" is waiting to start: trying and failing to pull image' });
    expect(containerForLogs('web', { containerStatuses: [status({ state: {} })] }, 'app', false)).toEqual({ error: 'container "app" in pod "web" is waiting to start - no logs yet' });
  });

  it('looks in init and ephemeral container statuses too, and says when a container has no status', () => {
    const init = status({ name: 'setup', state: terminated('containerd://i') });
    expect(containerForLogs('web', { initContainerStatuses: [init] }, 'setup', false)).toEqual({ containerId: 'containerd://i' });
    expect(containerForLogs('web', {}, 'app', false)).toEqual({ error: 'container "app" in pod "web" is not available' });
  });

  it('takes the runtime ID out of a status containerID', () => {
    expect(runtimeContainerId('containerd://abc')).toBe('abc');
    expect(runtimeContainerId('abc')).toBe('abc');
  });
});
