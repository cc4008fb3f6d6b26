/**
 * What provisioning a private containerd needs from the host, checked before anything starts, so a machine that
 * lacks it gets one message saying what to do instead of a failure deep inside containerd.
 * Keep REQUIRED_PACKAGES in step with ci/install-system-deps.sh.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';

export const REQUIRED_PACKAGES = [
  'containerd',
  'runc',
  'containernetworking-plugins',
  'busybox',
  'docker-registry',
  'iproute2',
  'iptables',
  'gcc',
  'libc6-dev',
  'tar',
  'util-linux',
  'procps',
] as const;

/** Executables the environment runs, and the package that provides each. */
export const REQUIRED_EXECUTABLES: readonly { readonly path: string; readonly pkg: string }[] = [
  { path: '/usr/bin/containerd', pkg: 'containerd' },
  { path: '/usr/bin/containerd-shim-runc-v2', pkg: 'containerd' },
  { path: '/usr/sbin/runc', pkg: 'runc' },
  { path: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { path: '/usr/lib/cni/host-local', pkg: 'containernetworking-plugins' },
  { path: '/usr/lib/cni/portmap', pkg: 'containernetworking-plugins' },
  { path: '/usr/lib/cni/loopback', pkg: 'containernetworking-plugins' },
  { path: '/bin/busybox', pkg: 'busybox' },
  { path: '/usr/bin/docker-registry', pkg: 'docker-registry' },
  { path: '/usr/bin/gcc', pkg: 'gcc' },
  { path: '/usr/bin/ldd', pkg: 'libc-bin' },
  { path: '/usr/sbin/iptables', pkg: 'iptables' },
  { path: '/usr/bin/tar', pkg: 'tar' },
];

export interface PrerequisiteReport {
  readonly problems: readonly string[];
  readonly missingPackages: readonly string[];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Everything that stops this machine from provisioning containerd (empty when it can). */
export function checkContainerdPrerequisites(): PrerequisiteReport {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`this is ${process.platform}, not Linux`);
  if (process.getuid?.() !== 0) problems.push('not running as root (containerd, mounts, network namespaces and cgroups need it)');
  const missing = REQUIRED_EXECUTABLES.filter((item) => !executable(item.path));
  if (missing.length > 0) problems.push(`missing ${missing.map((item) => item.path).join(', ')}`);
  if (!missing.some((item) => item.pkg === 'gcc') && !existsStaticLibc()) problems.push('static libc missing (libc6-dev), needed to build the pause binary');
  if (!missing.some((item) => item.path === '/bin/busybox') && isStatic('/bin/busybox')) problems.push('/bin/busybox is the static build; install Debian\'s dynamic "busybox" package');
  const missingPackages = [...new Set(missing.map((item) => item.pkg))];
  return { problems, missingPackages };
}

function existsStaticLibc(): boolean {
  return ['/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib/aarch64-linux-gnu/libc.a', '/usr/lib/libc.a'].some((path) => existsSync(path));
}

function isStatic(path: string): boolean {
  try {
    return execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('not a dynamic executable');
  } catch {
    return true; // ldd exits non-zero for static binaries
  }
}

/** The message the containerd test project fails with when it can neither provision nor use CRI_ENDPOINT. */
export function howToProvide(report: PrerequisiteReport): string {
  return [
    'kubelet-harness cannot provision a containerd for the containerd conformance target:',
    ...report.problems.map((problem) => `  - ${problem}`),
    'Do one of:',
    '  1. as root on Debian (bookworm), run: bash ci/install-system-deps.sh' +
      (report.missingPackages.length > 0 ? `  (installs: ${report.missingPackages.join(' ')})` : ''),
    '     then rerun the tests as root;',
    '  2. or point the suite at a running CRI runtime: CRI_ENDPOINT=unix:///run/containerd/containerd.sock npm test',
    '     (the local test registry is still started; the runtime must be able to pull from 127.0.0.1 over HTTP).',
  ].join('\n');
}
