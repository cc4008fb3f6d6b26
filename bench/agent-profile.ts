/**
 * CPU profiles of one bench phase for bench/agent.ts: the inspector's sampling profiler of the calling
 * thread, started and stopped around the phase, written as a .cpuprofile (Chrome DevTools, speedscope).
 * Profiling the whole run with --cpu-prof buries the burst under module loading and the quiet window.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface PhaseProfiler {
  /** Stops profiling and writes the profile to `file`. */
  stop(file: string): Promise<void>;
}

export async function startPhaseProfile(): Promise<PhaseProfiler> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
