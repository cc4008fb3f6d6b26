import { describe, expect, it } from 'vitest';
import { podCgroupsDecision, type PodCgroupsInput } from './activation.js';

const base: PodCgroupsInput = { cgroupsPerQOS: true, cgroupDriver: 'cgroupfs', cgroupRoot: '', runtimeName: 'containerd', runningAsRoot: true };

describe('podCgroupsDecision', () => {
  it('manages /sys/fs/cgroup on a real runtime as root with cgroupfs and cgroupsPerQOS', () => {
    expect(podCgroupsDecision(base)).toEqual({ manage: true, root: '/sys/fs/cgroup' });
    expect(podCgroupsDecision({ ...base, cgroupRoot: '/' })).toEqual({ manage: true, root: '/sys/fs/cgroup' });
  });

  it('uses a given cgroup filesystem root even on the fake runtime', () => {
    expect(podCgroupsDecision({ ...base, runtimeName: 'fake-cri', runningAsRoot: false, cgroupfsRoot: '/tmp/cg' })).toEqual({ manage: true, root: '/tmp/cg' });
  });

  it('leaves the fake runtime and non-root processes alone', () => {
    expect(podCgroupsDecision({ ...base, runtimeName: 'fake-cri' })).toMatchObject({ manage: false, reason: expect.stringMatching(/fake runtime/) });
    expect(podCgroupsDecision({ ...base, runningAsRoot: false })).toMatchObject({ manage: false, reason: expect.stringMatching(/not running as root/) });
  });

  it('says that systemd pod slices are left to the runtime, even with a root given', () => {
    expect(podCgroupsDecision({ ...base, cgroupDriver: 'systemd', cgroupfsRoot: '/tmp/cg' })).toMatchObject({
      manage: false,
      reason: expect.stringMatching(/systemd.*left to the runtime/),
    });
  });

  it('manages nothing without cgroupsPerQOS or under a custom cgroupRoot', () => {
    expect(podCgroupsDecision({ ...base, cgroupsPerQOS: false })).toMatchObject({ manage: false, reason: expect.stringMatching(/cgroupsPerQOS/) });
    expect(podCgroupsDecision({ ...base, cgroupRoot: '/custom' })).toMatchObject({ manage: false, reason: expect.stringMatching(/"\/custom" is not supported/) });
  });
});
