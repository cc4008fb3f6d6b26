import { describe, expect, it } from 'vitest';
import { runtimeConfigConflicts } from './runtime-conflicts.js';

describe('configuration against what the runtime reports', () => {
  it('takes the runtime cgroup driver and reports a disagreement', () => {
    expect(runtimeConfigConflicts({ cgroupDriver: 'cgroupfs' }, { cgroupDriver: 'SYSTEMD' })).toEqual({
      effectiveCgroupDriver: 'systemd',
      conflicts: [{ field: 'cgroupDriver', message: '"cgroupfs" differs from the runtime\'s cgroup driver "systemd"; using the runtime\'s' }],
    });
    expect(runtimeConfigConflicts({ cgroupDriver: 'systemd' }, { cgroupDriver: 'SYSTEMD' }).conflicts).toEqual([]);
  });

  it('keeps the configured driver when the runtime reports none', () => {
    expect(runtimeConfigConflicts({ cgroupDriver: 'systemd' }, {})).toEqual({ effectiveCgroupDriver: 'systemd', conflicts: [] });
  });
});
