/**
 * `node dist/ci/host/leak-check.js snapshot FILE` records the host state; `... compare FILE` fails (exit 1) when
 * the host now has processes, mounts, network namespaces, links, temp entries, runtime cgroups, iptables
 * chains, /run/containerd entries or CNI cache files it did not have then. .ci/run wraps `npm test` with it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { diffSnapshots, formatDiff, isEmptyDiff, takeHostSnapshot, type HostSnapshot } from './snapshot.js';

function main(argv: readonly string[]): number {
  const [command, file] = argv;
  if ((command !== 'snapshot' && command !== 'compare') || file === undefined) {
    process.stderr.write('usage: leak-check (snapshot|compare) FILE\n');
    return 2;
  }
  if (command === 'snapshot') {
    writeFileSync(file, JSON.stringify(takeHostSnapshot()));
    return 0;
  }
  const before = JSON.parse(readFileSync(file, 'utf8')) as HostSnapshot;
  const diff = diffSnapshots(before, takeHostSnapshot());
  if (isEmptyDiff(diff)) {
    process.stdout.write('leak-check: nothing was left behind\n');
    return 0;
  }
  process.stderr.write(`leak-check: the run left these behind:\n${formatDiff(diff)}\n`);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
