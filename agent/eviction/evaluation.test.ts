import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { evictionAdmit } from './admission.js';
import {
  INITIAL_EVICTION_ROUND_STATE,
  evaluateEvictionRound,
  nodeConditions,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  thresholdsFirstObservedAt,
  thresholdsMet,
  thresholdToReclaim,
  thresholdsMetGracePeriod,
  type SignalObservations,
} from './evaluation.js';
import { evictionGracePeriodOverride } from './grace-period.js';
import { parseEvictionThresholds } from './thresholds.js';

const memory = (available: string): SignalObservations => ({ 'memory.available': { available, capacity: '8Gi' } });

describe('thresholdsMet', () => {
  const [hard] = parseEvictionThresholds({
    evictionHard: { 'memory.available': '1Gi' },
    evictionMinimumReclaim: { 'memory.available': '500Mi' },
    enforceNodeAllocatable: [],
  });

  it('is met only when the threshold is strictly above what is available', () => {
    expect(thresholdsMet([hard!], memory('1023Mi'), false)).toHaveLength(1);
    expect(thresholdsMet([hard!], memory('1Gi'), false)).toHaveLength(0);
    expect(thresholdsMet([hard!], memory('2Gi'), false)).toHaveLength(0);
  });

  it('adds the minimum reclaim when asked to enforce it', () => {
    expect(thresholdsMet([hard!], memory('1.4Gi'), false)).toHaveLength(0);
    const [met] = thresholdsMet([hard!], memory('1.4Gi'), true);
    expect(met?.thresholdQuantity.toString()).toBe('1Gi');
    expect(met?.requiredAvailable.toString()).toBe('1524Mi');
  });

  it('skips signals without an observation and accepts quantity strings or Quantities', () => {
    expect(thresholdsMet(parseEvictionThresholds(), {}, false)).toEqual([]);
    const met = thresholdsMet(parseEvictionThresholds(), { 'nodefs.available': { available: '9Gi', capacity: '100Gi' } }, false);
    expect(met.map((m) => [m.threshold.signal, m.thresholdQuantity.value()])).toEqual([['nodefs.available', 10737418400n]]);
  });

  it('names the observation that does not parse', () => {
    expect(() => thresholdsMet([hard!], memory('lots'), false)).toThrow(/observations\["memory\.available"\]\.available/);
  });
});

describe('soft threshold grace bookkeeping', () => {
  const [soft] = parseEvictionThresholds({
    evictionHard: {},
    evictionSoft: { 'memory.available': '1Gi' },
    evictionSoftGracePeriod: { 'memory.available': '1m30s' },
  });

  it('keeps the first time a threshold was seen met while it stays met', () => {
    const first = thresholdsFirstObservedAt([soft!], new Map(), 100);
    const later = thresholdsFirstObservedAt([soft!], first, 150);
    expect(later.get(soft!)).toBe(100);
    expect(thresholdsFirstObservedAt([], later, 160).size).toBe(0);
  });

  it('releases the threshold once its grace period has fully elapsed', () => {
    const observedAt = new Map([[soft!, 100]]);
    expect(thresholdsMetGracePeriod(observedAt, 189.999)).toEqual([]);
    expect(thresholdsMetGracePeriod(observedAt, 190)).toEqual([soft]);
  });
});

describe('node conditions and the pressure transition period', () => {
  const thresholds = parseEvictionThresholds({
    evictionHard: { 'memory.available': '1Gi', 'nodefs.inodesFree': '5%', 'pid.available': '100' },
    enforceNodeAllocatable: [],
  });

  it('maps signals to MemoryPressure, DiskPressure and PIDPressure once each', () => {
    expect(nodeConditions(thresholds)).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    expect(nodeConditions([])).toEqual([]);
  });

  it('reports a condition until the transition period has passed since it was last observed', () => {
    const at = nodeConditionsLastObservedAt(['MemoryPressure'], new Map([['DiskPressure', 10]]), 50);
    expect([...at]).toEqual([['DiskPressure', 10], ['MemoryPressure', 50]]);
    expect(nodeConditionsObservedSince(at, 300, 309)).toEqual(['MemoryPressure', 'DiskPressure']);
    expect(nodeConditionsObservedSince(at, 300, 310)).toEqual(['MemoryPressure']);
    expect(nodeConditionsObservedSince(at, 300, 350)).toEqual([]);
  });
});

describe('evaluateEvictionRound', () => {
  const thresholds = parseEvictionThresholds({
    evictionHard: { 'memory.available': '500Mi' },
    evictionSoft: { 'memory.available': '1Gi' },
    evictionSoftGracePeriod: { 'memory.available': '30s' },
    evictionMinimumReclaim: { 'memory.available': '200Mi' },
    enforceNodeAllocatable: [],
  });

  it('reports pressure at once for a soft threshold but acts only after its grace period', () => {
    let round = evaluateEvictionRound(INITIAL_EVICTION_ROUND_STATE, { thresholds, observations: memory('900Mi'), now: 0 });
    expect(round.nodeConditions).toEqual(['MemoryPressure']);
    expect(round.activeThresholds).toEqual([]);
    round = evaluateEvictionRound(round.state, { thresholds, observations: memory('900Mi'), now: 30 });
    expect(round.activeThresholds.map((t) => t.gracePeriodSeconds)).toEqual([30]);
  });

  it('acts on a hard threshold immediately and keeps it until the minimum reclaim is recovered', () => {
    let round = evaluateEvictionRound(INITIAL_EVICTION_ROUND_STATE, { thresholds, observations: memory('400Mi'), now: 0 });
    expect(round.activeThresholds.map((t) => t.gracePeriodSeconds).sort()).toEqual([0]);
    // 600Mi clears the 500Mi hard threshold but not 500Mi + 200Mi reclaim.
    round = evaluateEvictionRound(round.state, { thresholds, observations: memory('600Mi'), now: 10 });
    expect(round.activeThresholds.some((t) => t.gracePeriodSeconds === 0)).toBe(true);
    round = evaluateEvictionRound(round.state, { thresholds, observations: memory('2Gi'), now: 20 });
    expect(round.activeThresholds).toEqual([]);
    expect(round.nodeConditions).toEqual(['MemoryPressure']);
    round = evaluateEvictionRound(round.state, { thresholds, observations: memory('2Gi'), now: 320 });
    expect(round.nodeConditions).toEqual([]);
  });

  it('ignores thresholds whose stats are not newer than last round', () => {
    const observations: SignalObservations = { 'memory.available': { available: '100Mi', capacity: '8Gi', time: 5 } };
    const first = evaluateEvictionRound(INITIAL_EVICTION_ROUND_STATE, { thresholds, observations, now: 0 });
    expect(first.activeThresholds).toHaveLength(1);
    const stale = evaluateEvictionRound(first.state, { thresholds, observations, now: 10 });
    expect(stale.activeThresholds).toEqual([]);
  });
});

describe('evictionAdmit', () => {
  const bestEffort: V1Pod = { metadata: { name: 'be' }, spec: { containers: [{ name: 'c' }] } };
  const burstable: V1Pod = { metadata: { name: 'bu' }, spec: { containers: [{ name: 'c', resources: { requests: { memory: '1Mi' } } }] } };

  it('admits everything without pressure', () => {
    expect(evictionAdmit(bestEffort, { nodeConditions: [] })).toEqual({ admit: true });
  });

  it('under memory pressure admits non-BestEffort pods and tolerating BestEffort pods only', () => {
    expect(evictionAdmit(burstable, { nodeConditions: ['MemoryPressure'] })).toEqual({ admit: true });
    expect(evictionAdmit(bestEffort, { nodeConditions: ['MemoryPressure'] })).toEqual({
      admit: false,
      reason: 'Evicted',
      message: 'The node had condition: [MemoryPressure]. ',
    });
    const tolerating: V1Pod = { ...bestEffort, spec: { ...bestEffort.spec!, tolerations: [{ key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' }] } };
    expect(evictionAdmit(tolerating, { nodeConditions: ['MemoryPressure'] }).admit).toBe(true);
    const wrongTaint: V1Pod = { ...bestEffort, spec: { ...bestEffort.spec!, tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists' }] } };
    expect(evictionAdmit(wrongTaint, { nodeConditions: ['MemoryPressure'] }).admit).toBe(false);
  });

  it('rejects every non-critical pod under disk or PID pressure, and admits critical pods', () => {
    expect(evictionAdmit(burstable, { nodeConditions: ['MemoryPressure', 'DiskPressure'] })).toEqual({
      admit: false,
      reason: 'Evicted',
      message: 'The node had condition: [MemoryPressure DiskPressure]. ',
    });
    const critical: V1Pod = { ...bestEffort, spec: { ...bestEffort.spec!, priority: 2000001000 } };
    expect(evictionAdmit(critical, { nodeConditions: ['PIDPressure'] }).admit).toBe(true);
  });
});

describe('choosing what to reclaim and how long evicted pods get', () => {
  it('reclaims memory before any other resource', () => {
    const thresholds = parseEvictionThresholds({ evictionHard: { 'nodefs.available': '1Gi', 'memory.available': '1Gi' }, enforceNodeAllocatable: [] });
    expect(thresholdToReclaim(thresholds)?.signal).toBe('memory.available');
    expect(thresholdToReclaim(thresholds.slice(0, 1))?.signal).toBe('nodefs.available');
    expect(thresholdToReclaim([])).toBeNull();
  });

  it('gives 1 s after a hard threshold and the capped max pod grace period after a soft one', () => {
    const [hard, soft] = parseEvictionThresholds({
      evictionHard: { 'memory.available': '1Gi' },
      evictionSoft: { 'memory.available': '2Gi' },
      evictionSoftGracePeriod: { 'memory.available': '1m' },
      enforceNodeAllocatable: [],
    });
    const pod = (tgps?: number): V1Pod => ({ spec: { containers: [], ...(tgps === undefined ? {} : { terminationGracePeriodSeconds: tgps }) } });
    expect(evictionGracePeriodOverride(hard!, pod(30), 60)).toBe(1);
    expect(evictionGracePeriodOverride(soft!, pod(30), 60)).toBe(30);
    expect(evictionGracePeriodOverride(soft!, pod(90), 60)).toBe(60);
    expect(evictionGracePeriodOverride(soft!, pod(), 0)).toBe(0);
  });
});
