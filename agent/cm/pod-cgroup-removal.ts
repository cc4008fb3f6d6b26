import type { Clock } from '../clock/clock.js';
import { CgroupBusyError, type CgroupManager, type CgroupName } from './cgroup-manager.js';
import { killProcesses, type KillProcess } from './cgroup-processes.js';

/**
 * upstream podContainerManagerImpl.Destroy: every process still in a pod cgroup (or a container cgroup
 * below it) is killed, then the cgroup is removed in every hierarchy. If one cannot be killed nothing
 * is removed; housekeeping tries again later.
 */

/** After a kill, removal is retried while the killed processes exit (runc's RemovePaths: 5 tries, 10 ms doubling). */
export const REMOVE_ATTEMPTS = 5;
export const REMOVE_FIRST_DELAY_MS = 10;

export interface PodCgroupRemoval {
  readonly cgroups: CgroupManager;
  readonly clock: Clock;
  /** null: nothing is killed (a stand-in tree, whose cgroup.procs names no process of the pod). */
  readonly kill: KillProcess | null;
  readonly log: (msg: string) => void;
}

/** True when the cgroup is gone; false (logged) when a process could not be killed or it stayed busy. */
export async function removePodCgroup(name: CgroupName, o: PodCgroupRemoval): Promise<boolean> {
  const killed = await killLeftovers(name, o);
  if (killed === null) return false;
  for (let attempt = 1; ; attempt++) {
    try {
      await o.cgroups.destroy(name);
      return true;
    } catch (e) {
      if (!(e instanceof CgroupBusyError)) throw e;
      // SIGKILLed processes leave their cgroup only once the kernel has reaped them.
      if (killed > 0 && attempt < REMOVE_ATTEMPTS) {
        await o.clock.sleep(REMOVE_FIRST_DELAY_MS * 2 ** (attempt - 1));
        continue;
      }
      o.log(`pod cgroup ${name.join('/')} not removed yet: ${e.message}`);
      return false;
    }
  }
}

/** How many leftover processes were killed, or null when some could not be. */
async function killLeftovers(name: CgroupName, o: PodCgroupRemoval): Promise<number | null> {
  if (o.kill === null) return 0;
  const pids = await o.cgroups.pids(name);
  if (pids.length === 0) return 0;
  const outcome = killProcesses(pids, o.kill);
  if (outcome.errors.length > 0) {
    o.log(`failed to kill all the processes attached to pod cgroup ${name.join('/')}: ${outcome.errors.map((e) => e.message).join('; ')}`);
    return null;
  }
  o.log(`killed ${pids.length} process(es) left in pod cgroup ${name.join('/')}: ${pids.join(', ')}`);
  return outcome.killed.length;
}
