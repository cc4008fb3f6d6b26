import { describe, expect, it } from 'vitest';
import { realClock } from '../../clock/real-clock.js';
import { probeEvent, probeOutcome, runProbe, runProbeWithRetries } from './run-probe.js';
import { ProberError } from './types.js';

describe('runProbe', () => {
  const deps = { clock: realClock, cri: { execSync: () => Promise.reject(new Error('unused')) }, userAgent: 'kube-probe/1.34' };
  const target = { probeType: 'liveness' as const, pod: { metadata: { name: 'web', namespace: 'prod' } }, podIP: '127.0.0.1', container: { name: 'app' }, containerId: 'c1' };

  it('reports a probe without a handler as a prober error naming the pod and container', async () => {
    const run = await runProbe({ ...target, probe: { periodSeconds: 5 } }, deps);
    expect(run.result).toBe('unknown');
    expect(run.error).toBeInstanceOf(ProberError);
    expect(run.error?.message).toBe('missing probe handler for prod/web:app');
  });

  it('retries only prober errors, and at most three times', async () => {
    let calls = 0;
    const flaky = {
      ...deps,
      cri: {
        execSync: () => {
          calls++;
          return calls < 3 ? Promise.reject(new Error('runtime hiccup')) : Promise.resolve({ stdout: Buffer.from('ok'), stderr: Buffer.alloc(0), exitCode: 0 });
        },
      },
    };
    const run = await runProbeWithRetries({ ...target, probe: { exec: { command: ['true'] }, timeoutSeconds: 1 } }, flaky);
    expect(run.result).toBe('success');
    expect(calls).toBe(3);

    let failures = 0;
    const failing = {
      ...deps,
      cri: {
        execSync: () => {
          failures++;
          return Promise.resolve({ stdout: Buffer.alloc(0), stderr: Buffer.from('nope'), exitCode: 1 });
        },
      },
    };
    expect((await runProbeWithRetries({ ...target, probe: { exec: { command: ['false'] } } }, failing)).result).toBe('failure');
    expect(failures).toBe(1);
  });

  it('maps handler results to worker outcomes and events as the upstream prober does', () => {
    expect(probeOutcome({ result: 'success', output: '' })).toBe('success');
    expect(probeOutcome({ result: 'warning', output: '' })).toBe('success');
    expect(probeOutcome({ result: 'failure', output: '' })).toBe('failure');
    expect(probeOutcome({ result: 'unknown', output: '' })).toBe('failure');
    expect(probeOutcome({ result: 'unknown', output: '', error: new Error('x') })).toBe('error');
    expect(probeEvent('liveness', { result: 'failure', output: 'HTTP probe failed with statuscode: 500' })).toEqual({
      reason: 'Unhealthy',
      message: 'Liveness probe failed: HTTP probe failed with statuscode: 500',
    });
    expect(probeEvent('readiness', { result: 'warning', output: 'Probe terminated redirects, Response body: ' })).toEqual({
      reason: 'ProbeWarning',
      message: 'Readiness probe warning: Probe terminated redirects, Response body: ',
    });
    expect(probeEvent('startup', { result: 'unknown', output: '', error: new Error('port x not found') })).toEqual({
      reason: 'Unhealthy',
      message: 'Startup probe errored: port x not found',
    });
    expect(probeEvent('startup', { result: 'success', output: 'ok' })).toBeNull();
  });
});
