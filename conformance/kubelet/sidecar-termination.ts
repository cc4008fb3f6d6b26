import assert from 'node:assert/strict';
import type { JournalEntry } from '../../fakes/journal/journal.js';
import { defineSuite } from '../framework/spec.js';
import { agentCalls, createPod, createdContainer, shellContainer, startAgent, waitForPod, waitForPodGone } from './support.js';

/**
 * Sidecar termination ordering (KEP-753) on the journal: when a pod is deleted, its regular containers
 * stop first and its sidecars (init containers with restartPolicy Always) after them, the one started
 * last first; a sidecar's StopContainer timeout is what is left of the grace period after its wait.
 *
 * The agent journals a StopContainer when it returns, which is when the container has exited. Exit
 * delays after SIGTERM make the order observable: the app takes 3 s, the later sidecar 1 s, the earlier
 * sidecar none. Stopped all at once, the sidecars would return before the app, and the earlier sidecar
 * before the later one; stopped in start order, the earlier one would come first too.
 */

/** A busybox shell that exits `delay` seconds after SIGTERM (a PID 1 with a trap gets the signal). */
const exitsAfterTerm = (delay: number): string => `trap '${delay > 0 ? `sleep ${delay}; ` : ''}exit 0' TERM; sleep 3600 & wait`;

export const kubeletSidecarTerminationSuite = defineSuite('kubelet/sidecar-termination', [
  {
    title: 'regular containers are stopped before sidecars, and sidecars in reverse start order, each sidecar given the grace left after its wait',
    timeoutMs: 90_000,
    run: async (ctx) => {
      const agent = await startAgent(ctx);
      const image = ctx.target.images.busybox;
      const name = ctx.uniqueName('kh-sidecars');
      const grace = 10;
      await createPod(agent, {
        metadata: { name },
        spec: {
          terminationGracePeriodSeconds: grace,
          initContainers: [
            shellContainer('first', image, exitsAfterTerm(0), { restartPolicy: 'Always' }),
            shellContainer('second', image, exitsAfterTerm(1), { restartPolicy: 'Always' }),
          ],
          containers: [shellContainer('app', image, exitsAfterTerm(3))],
        },
      });
      await waitForPod(ctx, agent, name, 'Running with the app and both sidecars running', (p) => {
        const all = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
        return p.status?.phase === 'Running' && all.length === 3 && all.every((c) => c.state?.running !== undefined);
      });
      await agent.core.deleteNamespacedPod({ name, namespace: agent.namespace });
      await waitForPodGone(ctx, agent, name);

      const ids = new Map(agentCalls(agent, 'CreateContainer').map((e) => [createdContainer(e).name, createdContainer(e).id]));
      const stopOf = (container: string): JournalEntry => {
        const id = ids.get(container);
        assert.ok(id, `the agent created ${container}`);
        const stops = agentCalls(agent, 'StopContainer').filter((e) => e.subject['containerId'] === id);
        assert.ok(stops.length >= 1, `the agent stopped ${container}`);
        return stops[0]!;
      };
      const timeoutOf = (e: JournalEntry): number => Number((e.request as { timeout?: number | string }).timeout);
      const app = stopOf('app');
      const second = stopOf('second');
      const first = stopOf('first');
      assert.ok(app.seq < second.seq, `the app has stopped (seq ${app.seq}) before the later sidecar finished stopping (seq ${second.seq})`);
      assert.ok(second.seq < first.seq, `the later sidecar has stopped (seq ${second.seq}) before the earlier one (seq ${first.seq})`);
      assert.ok(second.t - app.t >= 900, `the later sidecar got SIGTERM only after the app exited (it takes 1 s; ${Math.round(second.t - app.t)} ms apart)`);
      assert.equal(timeoutOf(app), grace, 'the app gets the whole grace period');
      // The later sidecar waited ≥ 3 s for the app, the earlier one ≥ 4 s; whole seconds come off.
      const secondTimeout = timeoutOf(second);
      const firstTimeout = timeoutOf(first);
      assert.ok(secondTimeout >= 2 && secondTimeout <= grace - 3, `the later sidecar's timeout is the grace left after ≥ 3 s of waiting, got ${secondTimeout}`);
      assert.ok(firstTimeout >= 2 && firstTimeout <= grace - 4, `the earlier sidecar's timeout is the grace left after ≥ 4 s of waiting, got ${firstTimeout}`);
      const stopSandbox = agentCalls(agent, 'StopPodSandbox').at(-1);
      assert.ok(stopSandbox && first.seq < stopSandbox.seq, 'the sandbox is stopped after the last sidecar');
    },
  },
]);
