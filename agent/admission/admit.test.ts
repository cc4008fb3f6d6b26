import { describe, expect, it } from 'vitest';
import { container, pod } from '../kuberuntime/test-fixtures.js';
import { admitPod } from './admit.js';

const allocatable = { cpu: '2', memory: '4Gi', pods: '2', 'nvidia.com/gpu': '1' };
const cpuPod = (cpu: string, name = 'p') => pod({ containers: [container('app', { resources: { requests: { cpu } } })] }, { name, uid: name });

describe('admitPod', () => {
  it('admits a pod that fits and rejects one asking for more cpu than is left', () => {
    expect(admitPod(cpuPod('1'), { allocatable, admittedPods: [], nodeConditions: [] })).toEqual({ admit: true });
    expect(admitPod(cpuPod('1500m'), { allocatable, admittedPods: [cpuPod('1', 'a')], nodeConditions: [] })).toEqual({
      admit: false,
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    });
  });

  it('rejects beyond maxPods and beyond an extended resource', () => {
    expect(admitPod(cpuPod('0'), { allocatable, admittedPods: [cpuPod('0', 'a'), cpuPod('0', 'b')], nodeConditions: [] })).toMatchObject({ reason: 'OutOfpods' });
    const gpu = pod({ containers: [container('app', { resources: { requests: { 'nvidia.com/gpu': '2' }, limits: { 'nvidia.com/gpu': '2' } } })] });
    expect(admitPod(gpu, { allocatable, admittedPods: [], nodeConditions: [] })).toMatchObject({ reason: 'OutOfnvidia.com/gpu' });
  });

  it('rejects a BestEffort pod under memory pressure with Evicted', () => {
    expect(admitPod(pod({}), { allocatable, admittedPods: [], nodeConditions: ['MemoryPressure'] })).toMatchObject({ admit: false, reason: 'Evicted' });
  });

  it('rejects malformed specs naming the field: bad quantity, duplicate names, unknown volume type', () => {
    const badQuantity = pod({ containers: [container('app', { resources: { limits: { memory: '1 GB' } } })] });
    expect(admitPod(badQuantity, { allocatable, admittedPods: [], nodeConditions: [] })).toMatchObject({
      admit: false,
      reason: 'UnexpectedAdmissionError',
      message: expect.stringContaining('spec.containers[0].resources.limits[memory]'),
    });
    const dup = pod({ containers: [container('app'), container('app')] });
    expect(admitPod(dup, { allocatable, admittedPods: [], nodeConditions: [] })).toMatchObject({ message: 'spec.containers[1].name: Duplicate value: "app"' });
    const vol = pod({ volumes: [{ name: 'v', flocker: { datasetName: 'x' } }] });
    expect(admitPod(vol, { allocatable, admittedPods: [], nodeConditions: [] })).toMatchObject({ message: 'spec.volumes[0]: unsupported volume type "flocker"' });
  });
});
