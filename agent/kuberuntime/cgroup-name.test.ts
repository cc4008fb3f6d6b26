import { describe, expect, it } from 'vitest';
import { podCgroupParent, toSystemd } from './cgroup-name.js';

describe('pod cgroup names', () => {
  it('places pods under kubepods by QoS with the cgroupfs driver', () => {
    expect(podCgroupParent('Guaranteed', 'a-b', 'cgroupfs')).toBe('/kubepods/poda-b');
    expect(podCgroupParent('Burstable', 'a-b', 'cgroupfs')).toBe('/kubepods/burstable/poda-b');
    expect(podCgroupParent('BestEffort', 'a-b', 'cgroupfs')).toBe('/kubepods/besteffort/poda-b');
    expect(podCgroupParent('BestEffort', 'a-b', 'cgroupfs', false)).toBe('/kubepods/poda-b');
  });

  it('nests slices and escapes dashes with the systemd driver', () => {
    expect(podCgroupParent('Burstable', '12-34', 'systemd')).toBe(
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod12_34.slice',
    );
    expect(podCgroupParent('Guaranteed', '12-34', 'systemd')).toBe('/kubepods.slice/kubepods-pod12_34.slice');
    expect(toSystemd([])).toBe('/');
  });
});
