import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { startFakeCsi } from '../../../fakes/csi/server.js';
import type { NodeCapability } from '../../../fakes/csi/driver.js';
import { faultRulesFromJson } from '../../../fakes/cri/faults.js';
import { journalFileOption, journalFromOptions, journalRetainOption, type JournalCliOptions } from '../journal-options.js';
import { harnessVersion } from '../version.js';

interface FakeCsiCliOptions extends JournalCliOptions {
  listen: string;
  nodeId: string;
  driverName?: string;
  stageUnstage: boolean;
  faults?: string;
  seed?: string;
}

/** `unix:///path` or a bare absolute path → the socket path. */
export function socketPathOf(listen: string): string {
  const path = listen.startsWith('unix://') ? listen.slice('unix://'.length) : listen;
  if (!path.startsWith('/')) throw new Error(`--listen must be unix:///absolute/path, got ${JSON.stringify(listen)}`);
  return path;
}

/** `kubelet-harness fake-csi`: the fake CSI driver (Identity, Node, Controller) on a unix socket, until interrupted. */
export function register(program: Command): void {
  program
    .command('fake-csi')
    .description('Serve a fake CSI v1 driver (Identity, Node, Controller) on a unix socket (mode 0600)')
    .requiredOption('--listen <endpoint>', 'unix:///path/to/csi.sock')
    .option('--node-id <id>', 'node ID reported by NodeGetInfo', 'fake-node')
    .option('--driver-name <name>', 'driver name reported by GetPluginInfo (default csi.kubelet-harness.dev)')
    .option('--no-stage-unstage', 'do not advertise STAGE_UNSTAGE_VOLUME (NodePublishVolume without staging)')
    .option('--faults <file>', 'JSON file with fault rules, as for fake-cri: [{method, match, nth, probability, times, effect: {type: error|delay|hang|restart, ...}}]')
    .option('--seed <n>', 'seed for probabilistic faults', '1')
    .addOption(journalFileOption('append every RPC'))
    .addOption(journalRetainOption())
    .action(async (options: FakeCsiCliOptions) => {
      const socketPath = socketPathOf(options.listen);
      const faults = options.faults ? faultRulesFromJson(await readFile(options.faults, 'utf8')) : [];
      const seed = Number(options.seed);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${JSON.stringify(options.seed)}`);
      const journal = journalFromOptions(options);
      const node: NodeCapability[] = options.stageUnstage ? ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS'] : ['GET_VOLUME_STATS'];
      const csi = await startFakeCsi({
        socketPath,
        journal,
        faults,
        seed,
        nodeId: options.nodeId,
        vendorVersion: harnessVersion(),
        capabilities: { node },
        ...(options.driverName ? { driverName: options.driverName } : {}),
      });
      process.stdout.write(`fake-csi ${csi.driver.driverName} listening on ${csi.endpoint}\n`);
      const stop = (): void => {
        void csi.stop().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
