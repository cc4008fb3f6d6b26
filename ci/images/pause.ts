/**
 * The pause image: one static binary that holds the pod's namespaces. It blocks in pause(2), exits 0 on
 * SIGTERM or SIGINT, and reaps every child it inherits (as PID 1 of a shared PID namespace it adopts orphans).
 * Compiled at build time with the machine's gcc against static glibc (Debian gcc + libc6-dev).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageDefinition } from './oci-layout.js';

const run = promisify(execFile);

export const PAUSE_SOURCE = `/* kubelet-harness pause: hold the sandbox namespaces until told to stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

/* Reap all exited children; keep errno intact for the interrupted code. */
static void on_child(int sig) {
  int saved = errno;
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  struct sigaction action;
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("kubelet-harness-pause 1");
    return 0;
  }
  if (getpid() != 1) fputs("pause: not running as PID 1\\n", stderr);
  memset(&action, 0, sizeof action);
  action.sa_handler = on_stop;
  if (sigaction(SIGINT, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0) return 1;
  action.sa_handler = on_child;
  action.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &action, NULL) != 0) return 1;
  for (;;) pause();
}
`;

/** Compiles the pause binary (static, stripped). gcc output is reproducible for the same compiler and libc. */
export async function compilePause(): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'kubelet-harness-pause-'));
  try {
    await writeFile(join(dir, 'pause.c'), PAUSE_SOURCE);
    try {
      // TMPDIR keeps gcc's intermediate files inside the private directory as well.
      await run('gcc', ['-static', '-Os', '-s', '-o', 'pause', 'pause.c'], { cwd: dir, env: { ...process.env, TMPDIR: dir } });
    } catch (error) {
      const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
      throw new Error(`cannot compile the pause binary with gcc (install gcc and libc6-dev): ${detail.trim()}`);
    }
    return await readFile(join(dir, 'pause'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Static libc archives gcc may link the pause binary against. */
const STATIC_LIBC = ['/usr/lib/x86_64-linux-gnu/libc.a', '/usr/lib/aarch64-linux-gnu/libc.a', '/usr/lib/libc.a'];

/**
 * The compiled binary, reused from `cacheDir` when the source, the compiler version and the static libc are
 * unchanged (compiling costs a few hundred milliseconds on every provisioning otherwise).
 */
export async function cachedPauseBinary(cacheDir: string): Promise<Buffer> {
  const hash = createHash('sha256').update(PAUSE_SOURCE);
  try {
    hash.update((await run('gcc', ['-dumpfullversion', '-dumpmachine'])).stdout);
  } catch {
    return compilePause(); // reports the missing compiler
  }
  for (const path of STATIC_LIBC) {
    const info = await stat(path).catch(() => undefined);
    if (info) hash.update(`${path}:${info.size}:${info.mtimeMs}`);
  }
  const file = join(cacheDir, 'pause-bin', hash.digest('hex').slice(0, 24));
  const cached = await readFile(file).catch(() => undefined);
  if (cached) return cached;
  const binary = await compilePause();
  await mkdir(join(cacheDir, 'pause-bin'), { recursive: true });
  await writeFile(`${file}.${process.pid}`, binary, { mode: 0o755 });
  await rename(`${file}.${process.pid}`, file);
  return binary;
}

export function pauseImage(binary: Uint8Array, tag: string): ImageDefinition {
  return {
    tag,
    layers: [[{ type: 'file', path: 'pause', mode: 0o755, content: binary }]],
    config: { Entrypoint: ['/pause'], WorkingDir: '/' },
  };
}
