import type { V1Probe } from '@kubernetes/client-node';
import { InvalidInputError, expectNumber, expectObject } from '../util/invalid-input.js';
import type { EffectiveProbe, ProbeType } from './types.js';

/**
 * API defaulting of a probe (`SetDefaults_Probe`): a field that is absent or 0 becomes
 * timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3; initialDelaySeconds
 * stays 0. Also applies the API server's validation that matters to the worker: numeric fields are
 * integers >= 0 and liveness/startup probes have successThreshold 1. Throws InvalidInputError
 * naming `field.<name>`.
 *
 * @example effectiveProbe({ periodSeconds: 5 }, 'readiness')
 *   // → { initialDelaySeconds: 0, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 }
 */
export function effectiveProbe(probe: V1Probe | unknown, type: ProbeType, field = `probes.${type}`): EffectiveProbe {
  const spec = expectObject(probe, field);
  const read = (name: keyof EffectiveProbe, fallback: number): number => {
    const raw = spec[name];
    if (raw === undefined || raw === null) return fallback;
    const value = expectNumber(raw, `${field}.${name}`, { integer: true, min: 0, max: 2_147_483_647 });
    return value === 0 ? fallback : value;
  };
  const effective: EffectiveProbe = {
    initialDelaySeconds: read('initialDelaySeconds', 0),
    periodSeconds: read('periodSeconds', 10),
    timeoutSeconds: read('timeoutSeconds', 1),
    successThreshold: read('successThreshold', 1),
    failureThreshold: read('failureThreshold', 3),
  };
  if (type !== 'readiness' && effective.successThreshold !== 1) {
    throw new InvalidInputError(`${field}.successThreshold`, `must be 1 for ${type} probes, got ${effective.successThreshold}`);
  }
  const grace = spec['terminationGracePeriodSeconds'];
  if (grace !== undefined && grace !== null) {
    if (type === 'readiness') {
      throw new InvalidInputError(`${field}.terminationGracePeriodSeconds`, 'is forbidden on readiness probes');
    }
    expectNumber(grace, `${field}.terminationGracePeriodSeconds`, { integer: true, min: 1 });
  }
  return effective;
}
