import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startEmbeddedNode } from '../../embedded-node.js';
import { integerFlag } from '../integer-flag.js';
import { journalFileOption, journalFromOptions, journalRetainOption, type JournalCliOptions } from '../journal-options.js';
import { untilSignal } from '../until-signal.js';
import { parseQuantity } from '../../resources/quantity.js';

interface UpOptions extends JournalCliOptions {
  kubeconfigOut: string;
  nodeName: string;
  config?: string;
  apiPort: string;
  cpu: string;
  memory: string;
  verbose?: boolean;
}

/**
 * `kubelet-harness up`: the mock API server, the fake CRI and the reference kubelet in one process,
 * with a kubeconfig written for kubectl. Runs until SIGINT/SIGTERM.
 */
export function register(program: Command): void {
  program
    .command('up')
    .description('Start a mock API server, the fake CRI runtime and the reference kubelet in one process; write a kubeconfig for kubectl')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig (mode 0600)', 'kubeconfig.yaml')
    .option('--node-name <name>', 'name of the node the agent registers', 'harness-node')
    .option('--config <file>', 'KubeletConfiguration (kubelet.config.k8s.io/v1beta1) YAML for the agent')
    .option('--api-port <port>', 'port of the mock API server on 127.0.0.1 (0 = any free port)', '0')
    .addOption(journalFileOption('append every CRI and API call'))
    .addOption(journalRetainOption())
    .option('--cpu <cores>', 'cores of the declared fake machine', '4')
    .option('--memory <quantity>', 'memory of the declared fake machine (a quantity)', '8Gi')
    .option('-v, --verbose', 'log the agent\'s internal messages to stderr')
    .action(async (options: UpOptions) => {
      const apiPort = integerFlag('--api-port', options.apiPort, 0, 65_535);
      const cpu = integerFlag('--cpu', options.cpu, 1, 10_000);
      const memory = parseBytes(options.memory);
      const journal = journalFromOptions(options);
      const kubeconfigPath = resolve(options.kubeconfigOut);
      const node = await startEmbeddedNode({
        journal,
        nodeName: options.nodeName,
        kubeconfigPath,
        apiPort,
        serveHealthz: true,
        machine: { cpu, memory },
        ...(options.config ? { configText: await readFile(options.config, 'utf8') } : {}),
        ...(options.verbose ? { log: (m: string) => process.stderr.write(`agent: ${m}\n`) } : {}),
      });
      const health = node.kubelet.healthServer;
      process.stdout.write(
        [
          `API server:  ${node.api.url}`,
          `CRI socket:  ${node.cri.endpoint}`,
          `node:        ${options.nodeName}`,
          ...(health ? [`healthz:     ${health.url}/healthz   metrics: ${health.url}/metrics`] : []),
          `kubeconfig:  ${kubeconfigPath}`,
          '',
          `  kubectl --kubeconfig ${kubeconfigPath} apply -f pod.yaml`,
          `  kubectl --kubeconfig ${kubeconfigPath} get pods -o wide`,
          `  kubectl --kubeconfig ${kubeconfigPath} logs -f POD`,
          `  kubectl --kubeconfig ${kubeconfigPath} exec POD -- sh -c 'echo hello'`,
          '',
        ].join('\n'),
      );
      await untilSignal(() => node.close());
    });
}

function parseBytes(text: string): bigint {
  try {
    const bytes = parseQuantity(text).value();
    if (bytes <= 0n) throw new Error('must be positive');
    return bytes;
  } catch (e) {
    throw new Error(`--memory: ${(e as Error).message} (got ${JSON.stringify(text)})`);
  }
}
