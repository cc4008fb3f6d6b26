import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CNI_PLUGIN_NAME, installCniPlugin } from './install.js';

/** What a provisioned containerd needs to run the project plugin after bridge + portmap. */
export interface HarnessCniChain {
  /** The installed executable, to link into the runtime's CNI bin dir. */
  readonly plugins: ReadonlyArray<{ type: string; path: string }>;
  /** The conflist entry appended to the chain. */
  readonly chain: ReadonlyArray<Record<string, unknown>>;
  /** Where the plugin reports; whoever owns the journal listens here (startJournalSink). */
  readonly journalSocket: string;
  /** Removes the installed plugin and its state. */
  remove(): void;
}

/**
 * Installs the plugin in a private temp dir and describes its chain entry. The journal sink is optional to
 * the plugin: pods run whether or not anyone listens (a journal exists only while specs run).
 */
export async function prepareHarnessCniChain(): Promise<HarnessCniChain> {
  // Short path: unix socket paths are limited to 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'kh-cni-'));
  const journalSocket = join(dir, 'journal.sock');
  try {
    const path = await installCniPlugin(join(dir, 'bin'));
    return {
      plugins: [{ type: CNI_PLUGIN_NAME, path }],
      chain: [{ type: CNI_PLUGIN_NAME, dataDir: join(dir, 'data'), journalSocket, journalSocketOptional: true }],
      journalSocket,
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
