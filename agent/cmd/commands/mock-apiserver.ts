import { Command, Option } from 'commander';
import { DEFAULT_EVENT_TTL_MS } from '../../../fakes/apiserver/event-ttl.js';
import { startMockApiServer } from '../../../fakes/apiserver/server.js';
import { formatGoDuration, parseGoDuration } from '../../config/duration.js';
import { integerFlag } from '../integer-flag.js';

interface MockApiServerCliOptions {
  host: string;
  port: string;
  kubeconfig?: string;
  tls?: boolean;
  token?: string | boolean;
  historyLimit?: string;
  eventTtl: string;
}

/**
 * `--event-ttl` in Go duration syntax, as kube-apiserver takes it (`1h0m0s`, `90s`); must be positive.
 * @example eventTtlFlag('5m') // 300000
 */
export function eventTtlFlag(raw: string): number {
  let ms: number;
  try {
    ms = parseGoDuration(raw);
  } catch (err) {
    throw new Error(`--event-ttl: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!(ms > 0)) throw new Error(`--event-ttl must be a positive duration, got "${raw}"`);
  return ms;
}

/** `kubelet-harness mock-apiserver`: the mock Kubernetes API server, standalone, until interrupted. */
export function register(program: Command): void {
  program
    .command('mock-apiserver')
    .description('Serve a mock Kubernetes API server (list/watch, kubectl tables, fault injection) on loopback')
    .option('--host <address>', 'listen address', '127.0.0.1')
    .option('--port <n>', 'listen port (0 picks a free one)', '0')
    .option('--kubeconfig <file>', 'write a kubeconfig for this server (mode 0600)')
    .option('--tls', 'serve HTTPS with a generated CA (needs the openssl CLI)')
    .addOption(new Option('--token [token]', 'require this bearer token (generated when no value is given)'))
    .option('--history-limit <n>', 'changes kept for watches to resume from; older resourceVersions get 410')
    .option('--event-ttl <duration>', 'how long an Event is kept after its last write, as kube-apiserver\'s --event-ttl', formatGoDuration(DEFAULT_EVENT_TTL_MS))
    .action(async (options: MockApiServerCliOptions) => {
      try {
        await serve(options);
      } catch (err) {
        process.stderr.write(`mock-apiserver: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
      }
    });
}

/** Starts the server and keeps the process alive until SIGINT/SIGTERM. */
async function serve(options: MockApiServerCliOptions): Promise<void> {
  const server = await startMockApiServer({
    host: options.host,
    port: integerFlag('--port', options.port, 0, 65_535),
    ...(options.tls ? { tls: true } : {}),
    ...(options.token === true ? { token: true } : typeof options.token === 'string' ? { token: options.token } : {}),
    ...(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {}),
    ...(options.historyLimit ? { historyLimit: integerFlag('--history-limit', options.historyLimit, 1, 10_000_000) } : {}),
    eventTtlMs: eventTtlFlag(options.eventTtl),
  });
  process.stdout.write(`mock-apiserver listening on ${server.url}\n`);
  if (server.kubeconfigPath) process.stdout.write(`kubeconfig written to ${server.kubeconfigPath}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
