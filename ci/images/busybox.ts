/**
 * The busybox test image, assembled from the host's Debian dynamic busybox: every applet is a hard link to the
 * one binary (so `sh -c ls` really executes ls), plus the shared libraries `ldd` names and a minimal /etc.
 * The static busybox build is not used: it runs applets in-process, which hides exec behaviour.
 */
import { execFile } from 'node:child_process';
import { readFile, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { ImageDefinition } from './oci-layout.js';
import { hardLinkGroup, type TarEntry } from './tar.js';

const run = promisify(execFile);

export const BUSYBOX_BINARY = '/bin/busybox';

/** Applets the conformance specs rely on; the build fails early if the host busybox lacks one. */
export const REQUIRED_APPLETS = ['sh', 'sleep', 'cat', 'httpd', 'nc', 'wget', 'echo', 'touch', 'rm', 'test', 'ls', 'kill'] as const;

export interface BusyboxInputs {
  readonly binary: Buffer;
  /** Install paths relative to / (e.g. "bin/sh", "usr/bin/wget"). */
  readonly appletPaths: readonly string[];
  /** Absolute path in the image → file content. */
  readonly libraries: ReadonlyMap<string, Buffer>;
}

/** Library paths from `ldd` output: "libc.so.6 => /lib/.../libc.so.6 (0x...)" and "/lib64/ld-linux... (0x...)". */
export function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('linux-vdso') || trimmed.startsWith('linux-gate')) continue;
    if (trimmed.includes('not found')) throw new Error(`ldd: missing library: ${trimmed}`);
    const arrow = /=>\s*(\/\S+)/.exec(trimmed);
    const direct = /^(\/\S+)/.exec(trimmed);
    const path = arrow?.[1] ?? direct?.[1];
    if (path !== undefined) paths.push(path);
  }
  return paths;
}

export async function readBusyboxInputs(binaryPath: string = BUSYBOX_BINARY): Promise<BusyboxInputs> {
  let binary: Buffer;
  try {
    binary = await readFile(binaryPath);
  } catch {
    throw new Error(`${binaryPath} not found: install Debian's dynamic busybox (apt-get install busybox)`);
  }
  const { stdout: list } = await run(binaryPath, ['--list-full']);
  const appletPaths = list.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const names = new Set(appletPaths.map((path) => path.slice(path.lastIndexOf('/') + 1)));
  const absent = REQUIRED_APPLETS.filter((name) => !names.has(name));
  if (absent.length > 0) throw new Error(`${binaryPath} lacks the applets ${absent.join(', ')}`);

  let lddOutput: string;
  try {
    lddOutput = (await run('ldd', [binaryPath])).stdout;
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? '';
    if (stdout.includes('not a dynamic executable')) throw new Error(`${binaryPath} is statically linked; the test image needs Debian's dynamic busybox`);
    throw error;
  }
  const libraries = new Map<string, Buffer>();
  for (const path of parseLdd(lddOutput)) libraries.set(path, await readFile(await realpath(path)));
  return { binary, appletPaths, libraries };
}

const PASSWD = ['root:x:0:0:root:/root:/bin/sh', 'daemon:x:1:1:daemon:/usr/sbin:/bin/false', 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false', ''].join('\n');
const GROUP = ['root:x:0:', 'daemon:x:1:', 'nogroup:x:65534:', ''].join('\n');

export function busyboxImage(inputs: BusyboxInputs, tag: string): ImageDefinition {
  const text = (path: string, content: string): TarEntry => ({ type: 'file', path, mode: 0o644, content: Buffer.from(content) });
  const entries: TarEntry[] = [
    ...hardLinkGroup(['bin/busybox', ...inputs.appletPaths], 0o755, inputs.binary),
    ...[...inputs.libraries].map(([path, content]): TarEntry => ({ type: 'file', path, mode: 0o755, content })),
    text('etc/passwd', PASSWD),
    text('etc/group', GROUP),
    text('etc/nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n'),
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'home', mode: 0o755 },
    { type: 'dir', path: 'var/www', mode: 0o755 },
    { type: 'dir', path: 'dev', mode: 0o755 },
    { type: 'dir', path: 'proc', mode: 0o555 },
    { type: 'dir', path: 'sys', mode: 0o555 },
  ];
  return {
    tag,
    layers: [entries],
    config: { Cmd: ['sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
  };
}
