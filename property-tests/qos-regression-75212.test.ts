/**
 * kubernetes #75212: QoS was computed from regular containers only, so a pod whose init container
 * asked for resources could be classed BestEffort (or Guaranteed while an init container was
 * Burstable). Init containers, restartable sidecars included, must count.
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podQOSClass } from '../agent/resources/qos.js';

const bare: V1Container = { name: 'app', image: 'busybox' };
const pinned: V1Container = {
  name: 'app',
  image: 'busybox',
  resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
};
const burstable: V1Container = { name: 'init', image: 'busybox', resources: { requests: { cpu: '10m', memory: '10Mi' }, limits: { cpu: '100m', memory: '200Mi' } } };

function pod(containers: V1Container[], initContainers: V1Container[]): V1Pod {
  return { metadata: { name: 'p' }, spec: { containers, initContainers } };
}

describe('kubernetes #75212: QoS must count init containers', () => {
  it('a BestEffort app with a Burstable init container is Burstable', () => {
    expect(podQOSClass(pod([bare], [burstable]))).toBe('Burstable');
  });

  it('a Guaranteed app with a Burstable init container is Burstable', () => {
    expect(podQOSClass(pod([pinned], [burstable]))).toBe('Burstable');
  });

  it('a Guaranteed app with a BestEffort sidecar is Burstable', () => {
    expect(podQOSClass(pod([pinned], [{ ...bare, name: 'sidecar', restartPolicy: 'Always' }]))).toBe('Burstable');
  });

  it('a Guaranteed app with a Guaranteed init container stays Guaranteed', () => {
    expect(podQOSClass(pod([pinned], [{ ...pinned, name: 'init' }]))).toBe('Guaranteed');
  });
});
