import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../agent/clock/index.js';
import { GrpcFaultInjector, waitForFault } from './grpc-faults.js';

describe('gRPC fault rules', () => {
  it('fires on the n-th call that matches method and request fields', () => {
    const faults = new GrpcFaultInjector([{ method: 'NodePublishVolume', match: { volumeId: /^pvc-/ }, nth: [2, 3], code: 'INTERNAL' }]);
    const codes = ['pvc-1', 'other', 'pvc-2', 'pvc-3', 'pvc-4'].map((volumeId) => faults.decide('NodePublishVolume', { volumeId }).error?.code);
    expect(codes).toEqual([undefined, undefined, status.INTERNAL, status.INTERNAL, undefined]);
    expect(faults.decide('NodeStageVolume', { volumeId: 'pvc-1' }).error).toBeUndefined();
  });

  it('limits firing with times and tries rules in order', () => {
    const faults = new GrpcFaultInjector([
      { method: 'Probe', times: 1, code: 'UNAVAILABLE', message: 'first' },
      { method: 'Probe', code: 14 },
    ]);
    expect(faults.decide('Probe', {}).error).toEqual({ code: status.UNAVAILABLE, message: 'first' });
    expect(faults.decide('Probe', {})).toMatchObject({ ruleIndex: 1, error: { code: 14, message: 'injected fault on Probe' } });
  });

  it('matches nested request fields by dot path', () => {
    const faults = new GrpcFaultInjector([{ match: { 'volumeCapability.accessMode.mode': 'SINGLE_NODE_WRITER' }, delayMs: 10 }]);
    expect(faults.decide('X', { volumeCapability: { accessMode: { mode: 'SINGLE_NODE_WRITER' } } }).delayMs).toBe(10);
    expect(faults.decide('X', { volumeCapability: null }).delayMs).toBe(0);
  });

  it('rejects malformed rules naming the field', () => {
    expect(() => new GrpcFaultInjector([{ nth: 0, code: 'INTERNAL' }])).toThrow('faults[0].nth: must be integers >= 1');
    expect(() => new GrpcFaultInjector([{ probability: 2, code: 'INTERNAL' }])).toThrow('faults[0].probability: must be in [0, 1]');
    expect(() => new GrpcFaultInjector([{ method: 'Probe' }])).toThrow('faults[0]: needs an effect');
    expect(() => new GrpcFaultInjector([{ code: 'OK' }])).toThrow('faults[0].code: OK is not a fault');
  });

  it('waits delays on the clock and hangs until aborted', async () => {
    const clock = new VirtualClock();
    let waited = false;
    const wait = waitForFault({ delayMs: 1000, hang: false }, clock, new AbortController().signal).then(() => (waited = true));
    await clock.advance(999);
    expect(waited).toBe(false);
    await clock.advance(1);
    await wait;
    const abort = new AbortController();
    const hang = waitForFault({ delayMs: 0, hang: true }, clock, abort.signal);
    abort.abort(new Error('deadline'));
    await expect(hang).rejects.toThrow('deadline');
  });
});
