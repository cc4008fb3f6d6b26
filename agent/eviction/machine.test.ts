import { readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { criStatsSummary } from './cri-stats-summary.js';
import { declaredEvictionMachine, hostEvictionMachine } from './machine.js';
import { signalObservationsFromSummary } from './observations.js';
import { parseQuantity } from '../resources/quantity.js';

const Mi = 1024n * 1024n;
const Gi = 1024n * Mi;
const empty = { sandboxes: [], containers: [], imageFs: null, time: 0 };

describe('eviction machines', () => {
  it('declares the pods cgroup limit as capacity minus kube- and system-reserved memory when pods are enforced', () => {
    const machine = { memoryBytes: 8n * Gi, ephemeralStorageBytes: 100n * Gi };
    expect(declaredEvictionMachine(machine, { kubeReserved: { memory: '512Mi' }, systemReserved: { memory: '1Gi', cpu: '500m' } })).toMatchObject({
      memoryCapacityBytes: 8n * Gi,
      podsMemoryLimitBytes: 8n * Gi - 1536n * Mi,
      nodefs: { capacityBytes: 100n * Gi },
    });
    expect(declaredEvictionMachine(machine, { enforceNodeAllocatable: [] }).podsMemoryLimitBytes).toBeUndefined();
  });

  it('measures the host: memory from /proc/meminfo, nodefs from statfs, which replace the CRI sums', () => {
    const host = hostEvictionMachine(tmpdir());
    const total = BigInt(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]!) * 1024n;
    expect(host.memoryCapacityBytes).toBe(total);
    expect(host.memoryWorkingSetBytes!).toBeGreaterThan(0n);
    expect(host.memoryWorkingSetBytes!).toBeLessThan(total);
    const fs = statfsSync(tmpdir(), { bigint: true });
    expect(host.nodefs.capacityBytes).toBe(fs.blocks * fs.bsize);
    expect(host.maxPid).toBeGreaterThan(0);
    expect(host.runningProcesses).toBeGreaterThan(0);
    // A pod sandbox reporting 1 GiB must not be added on top of what the host already measured.
    const sandbox = { attributes: { metadata: { uid: 'u' } }, linux: { memory: { workingSetBytes: { value: String(Gi) } }, process: { processCount: { value: '5' } } } };
    const o = signalObservationsFromSummary(criStatsSummary(host, { ...empty, sandboxes: [sandbox as never] }));
    const value = (q: unknown) => parseQuantity(String(q)).value();
    expect(value(o['memory.available']!.available)).toBe(total - host.memoryWorkingSetBytes!);
    expect(value(o['nodefs.available']!.available)).toBe(host.nodefs.availableBytes);
    expect(value(o['nodefs.inodesFree']!.available)).toBe(host.nodefs.inodesFree);
    expect(value(o['pid.available']!.available)).toBe(BigInt(host.maxPid! - host.runningProcesses!));
  });
});
