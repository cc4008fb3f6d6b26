import type { V1Pod } from '@kubernetes/client-node';
import { containersOf, initContainersOf, isRestartableInitContainer } from './pod-helpers.js';

/**
 * Sidecar termination ordering (KEP-753; upstream kuberuntime_termination_order.go), the pure part:
 * which containers each container of a pod being killed must see terminated before its StopContainer.
 *
 * Every kill starts at once (Killing event, preStop in parallel); only the StopContainer of a sidecar
 * (an init container with restartPolicy Always) waits:
 * - for every running regular container, and
 * - for the next sidecar after it in spec order (the one started after it), when that one is running.
 *
 * As upstream, a sidecar waits only on its immediate successor: when that successor is not running, its
 * turn is taken as already come, so the sidecar does not wait for sidecars further down the list (those
 * it would otherwise have waited for through the successor). Containers that are not running never hold
 * anyone up, and regular containers and regular init containers wait for nothing.
 */

/** Whether a pod's kill needs ordering at all (upstream HasRestartableInitContainer). */
export function hasSidecars(pod: V1Pod): boolean {
  return initContainersOf(pod).some(isRestartableInitContainer);
}

/**
 * For each running container of `pod` that must wait, the names of the running containers whose
 * termination it waits for. Containers absent from the map wait for nothing.
 *
 * @example
 * // init containers a and b (both sidecars), one regular container app, all running:
 * terminationPrerequisites(pod, ['a', 'b', 'app']) // → Map { 'b' => ['app'], 'a' => ['app', 'b'] }
 */
export function terminationPrerequisites(pod: V1Pod, runningNames: Iterable<string>): Map<string, string[]> {
  const running = new Set(runningNames);
  const regular = containersOf(pod)
    .map((c) => c.name)
    .filter((name) => running.has(name));
  const prerequisites = new Map<string, string[]>();
  const init = initContainersOf(pod);
  let laterSidecar: string | undefined;
  for (let i = init.length - 1; i >= 0; i--) {
    const container = init[i]!;
    if (!isRestartableInitContainer(container)) continue;
    if (running.has(container.name)) {
      const waitsFor = [...regular];
      if (laterSidecar !== undefined && running.has(laterSidecar)) waitsFor.push(laterSidecar);
      if (waitsFor.length > 0) prerequisites.set(container.name, waitsFor);
    }
    laterSidecar = container.name;
  }
  return prerequisites;
}
