import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  evictionConfigFromFlags,
  nodeAllocatable,
  parseEvictionThresholds,
  parseQuantity,
  podQOSClass,
  rankPodsForEviction,
  simulateCrashLoop,
  simulateProbes,
  thresholdsMet,
} from './index.js';

// These are the README's library examples: if one of them changes, the README is wrong.
describe('the package entry', () => {
  it('parses quantities as the README shows', () => {
    const q = parseQuantity('1536Mi');
    expect([q.toString(), q.format, q.value()]).toEqual(['1536Mi', 'BinarySI', 1610612736n]);
    expect(parseQuantity('1.5').toString()).toBe('1500m');
    expect(parseQuantity('1Gi').cmp(parseQuantity('1024Mi'))).toBe(0);
    expect(() => parseQuantity('10 Mi')).toThrow(expect.objectContaining({ code: 'ErrFormatWrong' }));
  });

  it('classifies the README pod as Guaranteed', () => {
    const resources = { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } };
    expect(podQOSClass({ spec: { containers: [{ name: 'a', resources }] } })).toBe('Guaranteed');
  });

  it('computes the README allocatable', () => {
    const allocatable = nodeAllocatable({
      capacity: { cpu: '4', memory: '16Gi', 'ephemeral-storage': '100Gi', pods: '110' },
      kubeReserved: { cpu: '100m', memory: '1Gi' },
      systemReserved: { memory: '500Mi' },
      evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '10%' },
    });
    expect(Object.fromEntries(Object.entries(allocatable).map(([k, v]) => [k, v.toString()]))).toEqual({
      cpu: '3900m',
      memory: '14760Mi',
      'ephemeral-storage': '96636764000',
      pods: '110',
    });
  });

  it('parses the README thresholds and finds only the soft memory one met', () => {
    const thresholds = parseEvictionThresholds(
      evictionConfigFromFlags({
        'eviction-hard': 'memory.available<500Mi,nodefs.available<10%',
        'eviction-soft': 'memory.available<1Gi',
        'eviction-soft-grace-period': 'memory.available=1m30s',
      }),
    );
    expect(thresholds.map((t) => [t.signal, t.value.quantity?.toString() ?? `${t.value.percentage}`, t.gracePeriodSeconds])).toEqual([
      ['memory.available', '500Mi', 0],
      ['nodefs.available', `${Math.fround(0.1)}`, 0],
      ['memory.available', '1Gi', 90],
      ['allocatableMemory.available', '500Mi', 0],
    ]);
    const met = thresholdsMet(thresholds, { 'memory.available': { available: '800Mi', capacity: '16Gi' } }, false);
    expect(met.map((m) => [m.threshold.signal, m.threshold.gracePeriodSeconds, m.thresholdQuantity.toString()])).toEqual([
      ['memory.available', 90, '1Gi'],
    ]);
  });

  it('ranks the README pods for memory eviction', () => {
    const pod = (name: string, memoryRequest: string): V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: 'c', resources: { requests: { memory: memoryRequest } } }] },
    });
    const ranked = rankPodsForEviction('memory.available', [
      { pod: pod('within-request', '1Gi'), stats: { memoryWorkingSetBytes: 512n << 20n } },
      { pod: pod('over-request', '100Mi'), stats: { memoryWorkingSetBytes: 300n << 20n } },
      { pod: pod('no-stats', '1Gi'), stats: null },
    ]);
    expect(ranked.map((p) => p.metadata?.name)).toEqual(['no-stats', 'over-request', 'within-request']);
  });

  it('kills the README container after three liveness failures and restarts crash loops after 0, 10, 20 s', () => {
    const outcomes = [0, 5, 10, 15, 20].map((t) => ({
      t,
      kind: 'tick' as const,
      probe: 'liveness' as const,
      outcome: t < 10 ? ('success' as const) : ('failure' as const),
    }));
    const sim = simulateProbes({
      restartPolicy: 'Always',
      probes: { liveness: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 5, failureThreshold: 3 } },
      events: [{ t: 0, kind: 'containerStart', containerId: 'c1' }, ...outcomes],
    });
    expect(sim.kills).toEqual([{ t: 20, containerId: 'c1', reason: 'LivenessProbe', willRestart: true }]);
    const crashes = simulateCrashLoop({
      restartPolicy: 'Always',
      runs: [
        { durationSeconds: 1, exitCode: 1 },
        { durationSeconds: 1, exitCode: 1 },
        { durationSeconds: 1, exitCode: 1 },
      ],
    });
    expect(crashes.instances.map((i) => i.waitSeconds)).toEqual([0, 10, 20]);
  });
});
