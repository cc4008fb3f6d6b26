import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, CniErrorCode } from './errors.js';

/**
 * File-based IPv4 allocation, shaped like host-local's store: one file per allocated address,
 * named by the address and holding `containerId\nifname`. A file is claimed with O_EXCL, so
 * concurrent plugin processes never hand out the same address.
 */
export interface Subnet {
  network: number;
  prefix: number;
  gateway: number;
}

export interface Allocation {
  ip: string;
  containerId: string;
  ifname: string;
}

export function parseSubnet(cidr: string, gateway?: string): Subnet {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || prefix > 30 || prefix < 8) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid subnet ${JSON.stringify(cidr)}`, 'expected an IPv4 CIDR with a prefix from /8 to /30');
  }
  const base = ipToInt(m[1] as string, 'subnet');
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (base & mask) >>> 0;
  const gw = gateway === undefined ? network + 1 : ipToInt(gateway, 'gateway');
  if (((gw & mask) >>> 0) !== network) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `gateway ${gateway} is outside subnet ${cidr}`);
  }
  return { network, prefix, gateway: gw };
}

export function ipToInt(ip: string, field: string): number {
  const octets = ip.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid ${field} ${JSON.stringify(ip)}`);
  }
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export class FileIpam {
  readonly dir: string;
  readonly subnet: Subnet;

  constructor(dir: string, subnet: Subnet) {
    this.dir = dir;
    this.subnet = subnet;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new CniError(CniErrorCode.IoFailure, `cannot create IPAM directory ${dir}`, (err as Error).message);
    }
  }

  list(): Allocation[] {
    const out: Allocation[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(name)) continue;
      let text: string;
      try {
        text = readFileSync(join(this.dir, name), 'utf8');
      } catch {
        continue; // released concurrently
      }
      const [containerId = '', ifname = ''] = text.split('\n');
      out.push({ ip: name, containerId, ifname });
    }
    return out;
  }

  find(containerId: string, ifname: string): Allocation | undefined {
    return this.list().find((a) => a.containerId === containerId && a.ifname === ifname);
  }

  /** Claims the next free address after the last one handed out (round robin, like host-local). */
  allocate(containerId: string, ifname: string): Allocation {
    const existing = this.find(containerId, ifname);
    if (existing) {
      throw new CniError(CniErrorCode.Internal, `${existing.ip} has been allocated to ${containerId}, duplicate allocation is not allowed`);
    }
    const size = 2 ** (32 - this.subnet.prefix);
    const first = this.subnet.network + 1;
    const last = this.subnet.network + size - 2; // broadcast excluded
    const span = last - first + 1;
    const lastFile = join(this.dir, 'last_reserved_ip');
    let start = first;
    try {
      start = ipToInt(readFileSync(lastFile, 'utf8').trim(), 'last_reserved_ip') + 1;
    } catch {
      // no previous reservation
    }
    for (let i = 0; i < span; i++) {
      const candidate = first + ((((start - first + i) % span) + span) % span);
      if (candidate === this.subnet.gateway) continue;
      const ip = intToIp(candidate);
      let fd: number;
      try {
        fd = openSync(join(this.dir, ip), 'wx', 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new CniError(CniErrorCode.IoFailure, `cannot reserve ${ip}`, (err as Error).message);
      }
      writeSync(fd, `${containerId}\n${ifname}`);
      closeSync(fd);
      writeFileSync(lastFile, ip);
      return { ip, containerId, ifname };
    }
    throw new CniError(CniErrorCode.Internal, `no IP addresses available in range set: ${intToIp(first)}-${intToIp(last)}`);
  }

  /** Releases what (containerId, ifname) holds; releasing nothing is not an error (DEL is idempotent). */
  release(containerId: string, ifname: string): Allocation[] {
    const released = this.list().filter((a) => a.containerId === containerId && a.ifname === ifname);
    for (const a of released) rmSync(join(this.dir, a.ip), { force: true });
    return released;
  }

  /** GC: releases every allocation whose attachment is not in `valid`. */
  releaseAllExcept(valid: ReadonlyArray<{ containerID: string; ifname: string }>): Allocation[] {
    const keep = new Set(valid.map((v) => `${v.containerID}\n${v.ifname}`));
    const released = this.list().filter((a) => !keep.has(`${a.containerId}\n${a.ifname}`));
    for (const a of released) rmSync(join(this.dir, a.ip), { force: true });
    return released;
  }
}
