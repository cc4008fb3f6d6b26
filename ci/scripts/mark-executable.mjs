// tsc does not keep the executable bit; the bins must be runnable right after `npm ci`.
import { chmodSync, existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
for (const target of Object.values(pkg.bin ?? {})) {
  const file = new URL(`../../${target}`, import.meta.url);
  if (existsSync(file)) chmodSync(file, 0o755);
}
