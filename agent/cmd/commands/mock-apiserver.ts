import { Command, Option } from 'commander';
import { startMockApiServer } from '../../../fakes/apiserver/server.js';
import { integerFlag } from '../integer-flag.js';

interface MockApiServerCliOptions {
  host: string;
  port: string;
  kubeconfig?: string;
  tls?: boolean;
  token?: string | boolean;
  historyLimit?: string;
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
  });
  process.stdout.write(`mock-apiserver listening on ${server.url}\n`);
  if (server.kubeconfigPath) process.stdout.write(`kubeconfig written to ${server.kubeconfigPath}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
