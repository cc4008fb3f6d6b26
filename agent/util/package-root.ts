import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The directory holding this package's package.json. Source files run from `agent/...` under vitest and
 * from `dist/agent/...` when built, so paths to `proto/` and other assets are resolved from here.
 */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'kubelet-harness') return (cached = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('kubelet-harness: cannot find the package root (package.json)');
    dir = parent;
  }
}

export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments);
}
