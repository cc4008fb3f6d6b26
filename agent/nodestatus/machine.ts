import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { statfsSync } from 'node:fs';

/** What the node status is built from about the machine (upstream cadvisor MachineInfo + versions). */
export interface MachineInfo {
  readonly cpuCores: number;
  readonly memoryBytes: bigint;
  /** Capacity of the filesystem holding the kubelet root dir (nodefs). */
  readonly ephemeralStorageBytes: bigint;
  /** hugepages-<size> → bytes, e.g. { 'hugepages-2Mi': 0n }. */
  readonly hugepages: Readonly<Record<string, bigint>>;
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly operatingSystem: string;
  readonly architecture: string;
  readonly hostname: string;
  /** Node IPs, primary first. */
  readonly addresses: readonly string[];
  /** True for a declared (fake) machine: its filesystems report no usage beyond what the CRI counts. */
  readonly declared?: boolean;
}

/** A declared machine for tests and `up` (capacity independent of the host). */
export interface FakeMachineSpec {
  readonly cpu?: number;
  readonly memory?: bigint;
  readonly ephemeralStorage?: bigint;
  readonly hostname?: string;
  readonly address?: string;
}

function readTrim(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Go's GOARCH names for Node's process.arch values. */
export function goArch(arch: string): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
}

function osImage(): string {
  const text = readTrim('/etc/os-release');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? `${os.type()} ${os.release()}`;
}

function primaryAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') out.push(a.address);
  }
  return out.length > 0 ? out : ['127.0.0.1'];
}

/** The real machine this process runs on. */
export function hostMachine(rootDir: string): MachineInfo {
  let storage = 0n;
  try {
    const fs = statfsSync(rootDir);
    storage = BigInt(fs.blocks) * BigInt(fs.bsize);
  } catch {
    try {
      const fs = statfsSync('/');
      storage = BigInt(fs.blocks) * BigInt(fs.bsize);
    } catch {
      storage = 0n;
    }
  }
  return {
    cpuCores: os.cpus().length,
    memoryBytes: BigInt(os.totalmem()),
    ephemeralStorageBytes: storage,
    hugepages: {},
    machineID: readTrim('/etc/machine-id'),
    systemUUID: readTrim('/sys/class/dmi/id/product_uuid'),
    bootID: readTrim('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: osImage(),
    operatingSystem: 'linux',
    architecture: goArch(process.arch),
    hostname: os.hostname().toLowerCase(),
    addresses: primaryAddresses(),
  };
}

/** A declared machine: 4 cores, 8 GiB, 100 GiB disk unless told otherwise; host identity kept. */
export function fakeMachine(spec: FakeMachineSpec = {}): MachineInfo {
  return {
    cpuCores: spec.cpu ?? 4,
    memoryBytes: spec.memory ?? 8n * 1024n ** 3n,
    ephemeralStorageBytes: spec.ephemeralStorage ?? 100n * 1024n ** 3n,
    hugepages: {},
    machineID: 'fake-machine-id',
    systemUUID: 'fake-system-uuid',
    bootID: 'fake-boot-id',
    kernelVersion: os.release(),
    osImage: 'kubelet-harness fake machine',
    operatingSystem: 'linux',
    architecture: goArch(process.arch),
    hostname: spec.hostname ?? 'harness-node',
    addresses: [spec.address ?? '127.0.0.1'],
    declared: true,
  };
}
