import { realClock } from '../../agent/clock/real-clock.js';
import type { RuntimeTargetInfo } from '../../ci/environment.js';
import { Journal } from '../../fakes/journal/journal.js';
import { startJournalSink } from '../../fakes/journal/sink.js';
import type { Target } from '../framework/target.js';

/**
 * A Target over a real runtime described by ci/ (a provisioned containerd, or a user's endpoint). With a
 * journal it is the target's journal (what the runtime's chained CNI plugin reports, plus what specs add).
 */
export function runtimeTarget(info: RuntimeTargetInfo, close: () => Promise<void>, journal: Journal | null = null): Target {
  return {
    kind: info.kind,
    description:
      info.kind === 'containerd'
        ? `containerd provisioned by the harness at ${info.runtimeEndpoint}`
        : `runtime at ${info.runtimeEndpoint}`,
    runtimeEndpoint: info.runtimeEndpoint,
    imageEndpoint: info.imageEndpoint,
    images: info.images,
    journal,
    clock: realClock,
    close,
  };
}

/**
 * The runtime target with a journal fed by the chained CNI plugin: listens on `journalSocket` (where the
 * runtime's conflist points the plugin) for as long as the target is open. Without a socket, no journal.
 */
export async function runtimeTargetWithCniJournal(info: RuntimeTargetInfo, journalSocket: string, close: () => Promise<void>): Promise<Target> {
  if (!journalSocket) return runtimeTarget(info, close);
  const journal = new Journal(realClock);
  const sink = await startJournalSink({ socketPath: journalSocket, journal });
  return runtimeTarget(
    info,
    async () => {
      await sink.close();
      await close();
    },
    journal,
  );
}
