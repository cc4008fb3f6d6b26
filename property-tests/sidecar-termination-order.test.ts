import fc from 'fast-check';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../agent/clock/virtual-clock.js';
import { TerminationOrderGate } from '../agent/kuberuntime/termination-order-gate.js';

/**
 * Sidecar termination ordering over virtual time: every container of a random pod (regular containers,
 * regular and restartable init containers, some not running) is killed at once; each asks for its turn,
 * then takes a random time to stop. Checked against the rule as stated in KEP-753 and upstream
 * terminationOrdering, not against the implementation's plan:
 * - a regular container or regular init container starts stopping at once;
 * - a running sidecar starts stopping when every running regular container and the nearest later
 *   sidecar (if that one is running) have stopped, or when its grace period runs out, whichever is first;
 * - the seconds it reports waiting are exactly that delay.
 */

interface Generated {
  readonly pod: V1Pod;
  readonly running: ReadonlySet<string>;
  /** Milliseconds each running container takes to stop once its turn came. */
  readonly stopMs: ReadonlyMap<string, number>;
  readonly graceSeconds: number;
}

const generated: fc.Arbitrary<Generated> = fc
  .record({
    regular: fc.array(fc.record({ running: fc.boolean(), stopMs: fc.integer({ min: 0, max: 8_000 }) }), { minLength: 1, maxLength: 3 }),
    init: fc.array(fc.record({ sidecar: fc.boolean(), running: fc.boolean(), stopMs: fc.integer({ min: 0, max: 8_000 }) }), { minLength: 1, maxLength: 5 }),
    graceSeconds: fc.integer({ min: 0, max: 20 }),
  })
  .map(({ regular, init, graceSeconds }) => {
    const containers: V1Container[] = regular.map((_, i) => ({ name: `app-${i}` }));
    const initContainers: V1Container[] = init.map((c, i) => ({ name: `init-${i}`, ...(c.sidecar ? { restartPolicy: 'Always' } : {}) }));
    const running = new Set<string>();
    const stopMs = new Map<string, number>();
    regular.forEach((c, i) => {
      if (c.running) running.add(`app-${i}`);
      stopMs.set(`app-${i}`, c.stopMs);
    });
    init.forEach((c, i) => {
      // A regular init container is running only while the pod initialises; either way it must not wait.
      if (c.running) running.add(`init-${i}`);
      stopMs.set(`init-${i}`, c.stopMs);
    });
    return { pod: { metadata: { name: 'p', uid: 'u' }, spec: { containers, initContainers } }, running, stopMs, graceSeconds };
  });

/** When each running container's turn came and when it stopped, by running the gate in virtual time. */
async function simulate(g: Generated): Promise<{ turn: Map<string, number>; stopped: Map<string, number>; waited: Map<string, number> }> {
  const clock = new VirtualClock();
  const gate = new TerminationOrderGate(g.pod, [...g.running], clock);
  const turn = new Map<string, number>();
  const stopped = new Map<string, number>();
  const waited = new Map<string, number>();
  const kills = [...g.running].map(async (name) => {
    waited.set(name, await gate.waitForTurn(name, g.graceSeconds));
    turn.set(name, clock.monotonic());
    await clock.sleep(g.stopMs.get(name) ?? 0);
    stopped.set(name, clock.monotonic());
    gate.containerTerminated(name);
  });
  let done = false;
  void Promise.all(kills).then(() => (done = true));
  while (!done) await clock.advance(250);
  return { turn, stopped, waited };
}

describe('sidecar termination ordering properties', () => {
  it('every sidecar stops after the running regular containers and the next running sidecar, or when its grace runs out', async () => {
    await fc.assert(
      fc.asyncProperty(generated, async (g) => {
        const { turn, stopped, waited } = await simulate(g);
        const spec = g.pod.spec!;
        const init = spec.initContainers ?? [];
        const regularRunning = spec.containers.map((c) => c.name).filter((n) => g.running.has(n));
        for (const [i, c] of init.entries()) {
          if (!g.running.has(c.name)) continue;
          const isSidecar = c.restartPolicy === 'Always';
          if (!isSidecar) {
            expect(turn.get(c.name), `${c.name} (regular init) stops at once`).toBe(0);
            continue;
          }
          const later = init.slice(i + 1).find((d) => d.restartPolicy === 'Always');
          const awaited = [...regularRunning, ...(later && g.running.has(later.name) ? [later.name] : [])];
          const ready = Math.max(0, ...awaited.map((n) => stopped.get(n)!));
          const expected = g.graceSeconds <= 0 || awaited.length === 0 ? 0 : Math.min(ready, g.graceSeconds * 1000);
          expect(turn.get(c.name), `${c.name}'s turn (waits for ${awaited.join(', ') || 'nothing'}, grace ${g.graceSeconds} s)`).toBe(expected);
          expect(waited.get(c.name)).toBe(expected / 1000);
        }
        for (const name of regularRunning) expect(turn.get(name), `${name} (regular) stops at once`).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
