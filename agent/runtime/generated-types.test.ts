import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packagePath } from '../util/package-root.js';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out;
}

describe('generated proto types', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kh-gen-proto-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('match a fresh generation from proto/ byte for byte (run `npm run gen:proto` after editing a .proto)', () => {
    execFileSync(process.execPath, [packagePath('ci', 'scripts', 'gen-proto-types.mjs'), '--out', scratch], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const committedRoot = packagePath('proto', 'generated');
    const fresh = listFiles(scratch).map((f) => relative(scratch, f)).sort();
    const committed = listFiles(committedRoot).map((f) => relative(committedRoot, f)).sort();
    expect(committed).toEqual(fresh);
    const differing = fresh.filter(
      (file) => readFileSync(join(scratch, file), 'utf8') !== readFileSync(join(committedRoot, file), 'utf8'),
    );
    expect(differing).toEqual([]);
    expect(fresh.length).toBeGreaterThan(200);
  }, 60_000);
});
