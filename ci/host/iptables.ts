/**
 * The portmap CNI plugin creates shared nat chains (CNI-HOSTPORT-*) on first use and never removes them; CNI DEL
 * only removes the per-sandbox CNI-DN-* chains. When a run created those shared chains and no sandbox on the host
 * has port mappings any more, they are removed, with the jumps into them.
 */
import { spawnSync } from 'node:child_process';

export const PORTMAP_CHAIN_PREFIX = 'CNI-HOSTPORT-';

export function natChains(saveOutput: string): string[] {
  return saveOutput
    .split('\n')
    .filter((line) => line.startsWith(':'))
    .map((line) => line.slice(1).split(' ')[0] ?? '');
}

/** The iptables-restore input that removes `chains` and every rule jumping into them; undefined if mappings remain. */
export function portmapRemovalScript(saveOutput: string, chains: readonly string[]): string | undefined {
  if (chains.length === 0) return undefined;
  const lines = saveOutput.split('\n');
  const owned = new Set(chains);
  if (lines.some((line) => line.startsWith(`-A ${PORTMAP_CHAIN_PREFIX}DNAT `) && line.includes(' -j CNI-DN-'))) return undefined;
  const script = ['*nat'];
  for (const line of lines) {
    const match = /^-A (\S+) .*-j (\S+)/.exec(line);
    if (match && owned.has(match[2] as string) && !owned.has(match[1] as string)) script.push(`-D${line.slice(2)}`);
  }
  for (const chain of chains) script.push(`-F ${chain}`);
  for (const chain of chains) script.push(`-X ${chain}`);
  script.push('COMMIT', '');
  return script.join('\n');
}

export function currentNatChains(): string[] {
  const result = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  return result.status === 0 ? natChains(result.stdout) : [];
}

/** Removes the portmap chains that were not in `baseline`, unless a sandbox still has port mappings. */
export function removeIdlePortmapChains(baseline: readonly string[]): string[] {
  const save = spawnSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' });
  if (save.status !== 0) return [];
  const known = new Set(baseline);
  const added = natChains(save.stdout).filter((chain) => chain.startsWith(PORTMAP_CHAIN_PREFIX) && !known.has(chain));
  const script = portmapRemovalScript(save.stdout, added);
  if (script === undefined) return [];
  const restore = spawnSync('iptables-restore', ['--noflush'], { input: script, encoding: 'utf8' });
  return restore.status === 0 ? [] : [`iptables portmap chains ${added.join(', ')}: ${restore.stderr.trim()}`];
}
