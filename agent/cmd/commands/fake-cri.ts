import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { faultRulesFromJson } from '../../../fakes/cri/faults.js';
import { startFakeCri } from '../../../fakes/cri/server.js';
import { journalFileOption, journalFromOptions, journalRetainOption, type JournalCliOptions } from '../journal-options.js';
import { harnessVersion } from '../version.js';

interface FakeCriCliOptions extends JournalCliOptions {
  listen: string;
  podCidr?: string;
  sandboxImage: string;
  faults?: string;
  seed: string;
  stopMissing: string;
  cgroupDriver: string;
}

function socketPathOf(listen: string): string {
  const path = listen.startsWith('unix://') ? listen.slice('unix://'.length) : listen;
  if (!path.startsWith('/')) throw new Error(`--listen must be unix:///absolute/path, got ${JSON.stringify(listen)}`);
  return path;
}

/** `kubelet-harness fake-cri`: the fake CRI runtime (RuntimeService + ImageService) on a unix socket, until SIGTERM/SIGINT. */
export function register(program: Command): void {
  program
    .command('fake-cri')
    .description('Serve the fake CRI runtime (runtime.v1 RuntimeService and ImageService) on a unix socket (mode 0600)')
    .requiredOption('--listen <endpoint>', 'unix:///path/to/cri.sock')
    .option('--pod-cidr <cidr>', 'loopback range for pod IPs, inside 127.0.0.0/8 (default: a random /20 in 127.64.0.0/10)')
    .option('--sandbox-image <ref>', 'pause image pulled (pinned) with the first sandbox', 'registry.k8s.io/pause:3.9')
    .option('--faults <file>', 'JSON list of fault rules ({method, match, nth, probability, times, effect}); see fakes/cri/README.md')
    .option('--seed <n>', 'seed for probabilistic fault rules', '1')
    .addOption(journalFileOption('append every RPC and container event'))
    .addOption(journalRetainOption())
    .option('--stop-missing <answer>', 'StopContainer/StopPodSandbox on an unknown ID: not-found (containerd <= 1.6.34/1.7.20) or ok', 'not-found')
    .option('--cgroup-driver <driver>', 'cgroup driver reported by RuntimeConfig: cgroupfs or systemd', 'cgroupfs')
    .action(async (options: FakeCriCliOptions) => {
      const socketPath = socketPathOf(options.listen);
      const seed = Number(options.seed);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${JSON.stringify(options.seed)}`);
      if (options.stopMissing !== 'not-found' && options.stopMissing !== 'ok') {
        throw new Error(`--stop-missing must be not-found or ok, got ${JSON.stringify(options.stopMissing)}`);
      }
      if (options.cgroupDriver !== 'cgroupfs' && options.cgroupDriver !== 'systemd') {
        throw new Error(`--cgroup-driver must be cgroupfs or systemd, got ${JSON.stringify(options.cgroupDriver)}`);
      }
      const faults = options.faults ? faultRulesFromJson(await readFile(options.faults, 'utf8')) : [];
      const journal = journalFromOptions(options);
      const fake = await startFakeCri({
        socketPath,
        journal,
        faults,
        faultSeed: seed,
        ...(options.podCidr ? { podCidr: options.podCidr } : {}),
        sandboxImage: options.sandboxImage,
        stopMissing: options.stopMissing,
        cgroupDriver: options.cgroupDriver,
        runtimeVersion: harnessVersion(),
      });
      process.stdout.write(`fake-cri listening on ${fake.endpoint}\n`);
      const stop = (): void => {
        void fake.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
