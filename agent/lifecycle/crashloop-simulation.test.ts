import { describe, expect, it } from 'vitest';
import { simulateCrashLoop } from './crashloop-simulation.js';

const quick = (n: number) => Array.from({ length: n }, () => ({ durationSeconds: 1 }));

describe('simulateCrashLoop', () => {
  it('restarts quick crashes after 0, 10, 20, 40, 80, 160, 300, 300 s measured from each exit', () => {
    const out = simulateCrashLoop({ restartPolicy: 'Always', runs: quick(8) });
    expect(out.instances.map((i) => i.waitSeconds)).toEqual([0, 10, 20, 40, 80, 160, 300, 300]);
    expect(out.instances.map((i) => i.backoffAfterRestartSeconds)).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
    expect(out.instances[2]).toEqual({
      instance: 2,
      startedAt: 12,
      finishedAt: 13,
      exitCode: 1,
      restartCount: 2,
      restartAt: 33,
      waitSeconds: 20,
      backoffAfterRestartSeconds: 40,
    });
  });

  it('resets after an instance that ran longer than resetAfterSeconds, not after one that ran exactly that long', () => {
    const runs = [{ durationSeconds: 1 }, { durationSeconds: 1 }, { durationSeconds: 1 }, { durationSeconds: 601 }, { durationSeconds: 1 }, { durationSeconds: 600 }, { durationSeconds: 1 }];
    const waits = simulateCrashLoop({ restartPolicy: 'Always', runs }).instances.map((i) => i.waitSeconds);
    expect(waits).toEqual([0, 10, 20, 0, 10, 20, 40]);
  });

  it('follows the restart policy: OnFailure stops at exit code 0, Never never restarts', () => {
    const onFailure = simulateCrashLoop({
      restartPolicy: 'OnFailure',
      runs: [{ durationSeconds: 5, exitCode: 2 }, { durationSeconds: 5, exitCode: 0 }, { durationSeconds: 5 }],
    });
    expect(onFailure.instances.map((i) => i.restartAt)).toEqual([5, null]);
    const never = simulateCrashLoop({ restartPolicy: 'Never', runs: quick(3) });
    expect(never.instances).toHaveLength(1);
    expect(never.instances[0]?.waitSeconds).toBeNull();
  });

  it('uses a custom policy and shrinks the initial delay to a smaller max', () => {
    const out = simulateCrashLoop({ restartPolicy: 'Always', runs: quick(4), backoff: { initialSeconds: 10, maxSeconds: 5, resetAfterSeconds: 60 } });
    expect(out.instances.map((i) => i.waitSeconds)).toEqual([0, 5, 5, 5]);
  });

  it('restarts probe-killed instances in the kill sync until the backoff window outgrows their lifetime (semantics §3.6)', () => {
    const runs = Array.from({ length: 7 }, () => ({ durationSeconds: 30, killedBy: 'LivenessProbe' as const }));
    const out = simulateCrashLoop({ restartPolicy: 'Always', runs });
    expect(out.instances.map((i) => i.waitSeconds)).toEqual([0, 0, 0, 0, 40, 80, 160]);
    expect(out.instances.map((i) => i.backoffAfterRestartSeconds)).toEqual([null, 10, 20, 40, 80, 160, 300]);
    expect(out.instances[0]?.exitCode).toBe(137);
  });

  it('restarts a probe-killed instance under OnFailure whatever its exit code, never under Never', () => {
    const killed = [{ durationSeconds: 5, exitCode: 0, killedBy: 'StartupProbe' as const }, { durationSeconds: 5 }];
    expect(simulateCrashLoop({ restartPolicy: 'OnFailure', runs: killed }).instances[0]?.restartAt).toBe(5);
    expect(simulateCrashLoop({ restartPolicy: 'Never', runs: killed }).instances).toHaveLength(1);
  });

  it('names the offending field for bad input', () => {
    expect(() => simulateCrashLoop({ restartPolicy: 'Always', runs: [{ durationSeconds: -1 }] })).toThrow('runs[0].durationSeconds: must be >= 0');
    expect(() => simulateCrashLoop({ restartPolicy: 'Sometimes' as never, runs: quick(1) })).toThrow('restartPolicy: must be one of');
    expect(() => simulateCrashLoop({ restartPolicy: 'Always', runs: quick(1), backoff: { maxSeconds: 0 } })).toThrow('backoff.maxSeconds: must be > 0');
    expect(() => simulateCrashLoop({ restartPolicy: 'Always', runs: [] })).toThrow('runs: must list at least one run');
    expect(() => simulateCrashLoop({ restartPolicy: 'Always', runs: [{ durationSeconds: 1, killedBy: 'Oops' as never }] })).toThrow('runs[0].killedBy: must be one of');
  });
});
