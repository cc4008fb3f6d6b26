/**
 * A bridge name and IPv4 subnet for one run, unused on this host: every run gets its own so a leftover bridge or
 * IPAM state from another run (or another engineer's concurrent run) never collides with it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';

export interface NetworkChoice {
  readonly bridge: string;
  readonly subnet: string;
}

/** CIDRs routed or assigned on the host right now (`ip -4 route` and addresses). */
export function hostIpv4Cidrs(): string[] {
  const routes = execFileSync('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  const addresses = execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' });
  const cidrs: string[] = [];
  for (const line of routes.split('\n')) {
    const dst = line.trim().split(/\s+/)[0] ?? '';
    const candidate = dst === 'local' || dst === 'broadcast' ? (line.trim().split(/\s+/)[1] ?? '') : dst;
    if (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(candidate)) cidrs.push(candidate.includes('/') ? candidate : `${candidate}/32`);
  }
  for (const match of addresses.matchAll(/inet (\d+\.\d+\.\d+\.\d+\/\d+)/g)) cidrs.push(match[1] as string);
  return cidrs;
}

function toRange(cidr: string): [number, number] {
  const [ip = '', prefixText = '32'] = cidr.split('/');
  const value = ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
  const prefix = Number(prefixText);
  const size = prefix === 0 ? 2 ** 32 : 2 ** (32 - prefix);
  const start = prefix === 0 ? 0 : value - (value % size);
  return [start, start + size - 1];
}

export function overlaps(a: string, b: string): boolean {
  const [a0, a1] = toRange(a);
  const [b0, b1] = toRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** Picks a /24 in 10.128.0.0/9 that overlaps nothing in `inUse`, and a bridge name "khb-" + 8 hex digits. */
export function chooseNetwork(inUse: readonly string[] = hostIpv4Cidrs(), random: (max: number) => number = randomInt): NetworkChoice {
  // The default route (0.0.0.0/0) overlaps everything and does not make a subnet unusable.
  const relevant = inUse.filter((cidr) => !cidr.endsWith('/0'));
  for (let attempt = 0; attempt < 200; attempt++) {
    const subnet = `10.${128 + random(127)}.${random(256)}.0/24`;
    if (!relevant.some((cidr) => overlaps(cidr, subnet))) return { bridge: `khb-${randomBytes(4).toString('hex')}`, subnet };
  }
  throw new Error('no free /24 in 10.128.0.0/9 for the test bridge');
}
