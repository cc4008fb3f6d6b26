import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import type { Command } from 'commander';
import { kubeClientsFromFile } from '../../api/kube-client.js';
import { loadKubeletConfig } from '../../config/load.js';
import { parseKubeletArgs } from '../../config/flags.js';
import { Kubelet } from '../../kubelet.js';
import { createKubeletMetrics } from '../../metrics/kubelet-metrics.js';
import { fakeMachine, hostMachine, type MachineInfo } from '../../nodestatus/machine.js';
import { parseMapStringString } from '../../config/flag-syntax.js';
import { parseQuantity } from '../../resources/quantity.js';
import { untilSignal } from '../until-signal.js';

/**
 * `kubelet-harness agent --config kubelet-config.yaml --kubeconfig FILE --runtime-endpoint unix:///...`:
 * the reference kubelet, taking kubelet's flags with kubelet's syntax (flags override the file).
 * `--fake-machine cpu=4,memory=8Gi` declares the machine instead of measuring the host.
 */
export function register(program: Command): void {
  program
    .command('agent')
    .description('Run the reference kubelet against an API server and a CRI runtime; takes kubelet flags (--config, --kubeconfig, --runtime-endpoint, --node-name, --kube-reserved, --eviction-hard, ...)')
    .helpOption('-h, --help', 'show help')
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .argument('[flags...]', 'kubelet flags, e.g. --max-pods=50 --kube-reserved cpu=500m,memory=1Gi')
    .action(async (_args: string[], _opts: unknown, cmd: Command) => {
      const argv = [...cmd.args];
      const { fakeMachineSpec, rest } = takeFakeMachine(argv);
      const parsed = parseKubeletArgs(rest);
      const metrics = createKubeletMetrics();
      const fail = (lines: string[]): never => {
        metrics.nodeConfigError.set(1);
        for (const l of lines) process.stderr.write(`kubelet-harness agent: ${l}\n`);
        process.exit(1);
      };
      if (parsed.errors.length > 0) fail(parsed.errors.map((e) => `${e.field}: ${e.message}`));
      if (parsed.positional.length > 0) fail([`unexpected argument ${JSON.stringify(parsed.positional[0])}`]);
      const configFile = typeof parsed.flags['config'] === 'string' ? parsed.flags['config'] : undefined;
      let fileText: string | undefined;
      if (configFile) {
        try {
          fileText = await readFile(configFile, 'utf8');
        } catch (e) {
          fail([`--config: cannot read ${configFile}: ${(e as Error).message}`]);
        }
      }
      const loaded = loadKubeletConfig({ ...(fileText !== undefined ? { fileText } : {}), flags: parsed.flags });
      for (const w of loaded.warnings) process.stderr.write(`kubelet-harness agent: warning: ${w}\n`);
      if (loaded.errors.length > 0) fail(loaded.errors);
      const settings = loaded.settings;
      const nodeName = (settings.nodeName ?? os.hostname()).toLowerCase();
      let machine: MachineInfo;
      try {
        machine = fakeMachineSpec ? fakeMachineFrom(fakeMachineSpec, nodeName) : hostMachine(settings.rootDir);
      } catch (e) {
        return fail([(e as Error).message]);
      }
      const kubelet = new Kubelet({
        config: loaded.config,
        nodeName,
        rootDir: settings.rootDir,
        kubeClients: settings.kubeconfig ? kubeClientsFromFile(settings.kubeconfig) : null,
        machine,
        metrics,
        serveHealthz: true,
        // The kubelet server (/containerLogs for pods/log) on config.port; loopback unless --address names one.
        serveKubeletServer: true,
        ...(typeof parsed.flags['address'] === 'string' ? { kubeletServerAddress: parsed.flags['address'] } : {}),
        log: (m) => process.stderr.write(`kubelet-harness agent: ${m}\n`),
      });
      await kubelet.start();
      process.stderr.write(`kubelet-harness agent: node ${nodeName} running against ${loaded.config.containerRuntimeEndpoint}\n`);
      await untilSignal(() => kubelet.stop());
    });
}

function takeFakeMachine(argv: string[]): { fakeMachineSpec: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let spec: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--fake-machine') spec = argv[++i] ?? '';
    else if (a.startsWith('--fake-machine=')) spec = a.slice('--fake-machine='.length);
    else rest.push(a);
  }
  return { fakeMachineSpec: spec, rest };
}

function fakeMachineFrom(spec: string, hostname: string): MachineInfo {
  const m = parseMapStringString(spec);
  const cpu = m['cpu'] !== undefined ? Number(m['cpu']) : undefined;
  if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 1)) throw new Error(`--fake-machine: cpu must be a positive integer, got ${JSON.stringify(m['cpu'])}`);
  const bytes = (key: string): bigint | undefined => {
    const v = m[key];
    if (v === undefined) return undefined;
    try {
      return parseQuantity(v).value();
    } catch (e) {
      throw new Error(`--fake-machine: ${key}: ${(e as Error).message}`);
    }
  };
  const memory = bytes('memory');
  const storage = bytes('ephemeral-storage');
  return fakeMachine({
    hostname,
    ...(cpu !== undefined ? { cpu } : {}),
    ...(memory !== undefined ? { memory } : {}),
    ...(storage !== undefined ? { ephemeralStorage: storage } : {}),
    ...(m['address'] ? { address: m['address'] } : {}),
  });
}
