/**
 * Debian's docker-registry (distribution 2.8) as a child process: listening on 127.0.0.1 on an ephemeral port,
 * storage and config in a private directory. A port taken between choosing and binding is retried.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { realClock, type Clock } from '../../agent/clock/index.js';
import { startDaemon, type Daemon } from '../util/daemon.js';
import { freeLoopbackPort } from '../util/free-port.js';
import { waitFor } from '../util/wait.js';

export const DOCKER_REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface RegistryProcess {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT, the host part of image references. */
  readonly host: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export function registryConfig(port: number, storageDir: string): string {
  // YAML by hand: a handful of fixed keys, and JSON strings are valid YAML scalars.
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storageDir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${JSON.stringify(`127.0.0.1:${port}`)}`,
    '',
  ].join('\n');
}

/** Starts a registry whose files all live under `dir` (created if needed). */
export async function startRegistryProcess(dir: string, options: { binary?: string; clock?: Clock } = {}): Promise<RegistryProcess> {
  const binary = options.binary ?? DOCKER_REGISTRY_BINARY;
  if (!existsSync(binary)) throw new Error(`${binary} not found: install Debian's docker-registry (apt-get install docker-registry)`);
  const clock = options.clock ?? realClock;
  await mkdir(join(dir, 'storage'), { recursive: true, mode: 0o700 });
  let lastFailure = '';
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freeLoopbackPort();
    const configFile = join(dir, 'config.yml');
    await writeFile(configFile, registryConfig(port, join(dir, 'storage')), { mode: 0o600 });
    const daemon: Daemon = startDaemon('docker-registry', binary, ['serve', configFile], join(dir, 'registry.log'), clock);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(
        `docker-registry on ${url}`,
        async () => ((await fetch(`${url}/v2/`)).status === 200 ? true : undefined),
        { timeoutMs: 15_000, clock, abortIf: () => daemon.exitReason() },
      );
      return { url, host: `127.0.0.1:${port}`, pid: daemon.pid, stop: () => daemon.stop() };
    } catch (error) {
      await daemon.stop();
      lastFailure = `${(error as Error).message}\n${daemon.tail()}`;
      if (!/address already in use/i.test(daemon.tail())) break;
    }
  }
  throw new Error(`could not start docker-registry: ${lastFailure}`);
}
