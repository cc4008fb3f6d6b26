// Generates the TypeScript types of proto/ (CRI runtime.v1 and CSI v1) with @grpc/proto-loader's
// proto-loader-gen-types, so message and service types cannot drift from the .proto files.
//
//   node ci/scripts/gen-proto-types.mjs [--out DIR]     (default DIR: proto/generated)
//
// The options here must stay in step with the loader options in agent/runtime/proto.ts: the generated
// types describe what the loader produces (camelCase fields, int64 as strings, enums as names,
// defaults filled in, oneof discriminators). agent/runtime/generated-types.test.ts regenerates into a
// temporary directory and fails when the committed output differs.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outIndex = process.argv.indexOf('--out');
const outDir = resolve(outIndex > 0 && process.argv[outIndex + 1] ? process.argv[outIndex + 1] : join(root, 'proto/generated'));

const require = createRequire(import.meta.url);
const generator = join(dirname(require.resolve('@grpc/proto-loader/package.json')), 'build/bin/proto-loader-gen-types.js');

const targets = [
  { name: 'cri', proto: 'proto/cri/runtime/v1/api.proto' },
  { name: 'csi', proto: 'proto/csi/v1/csi.proto' },
];

for (const { name, proto } of targets) {
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [generator, proto, '--longs=String', '--enums=String', '--defaults', '--oneofs', '--grpcLib=@grpc/grpc-js', '-O', dir],
    // Run from the package root so the "Original file" header is the same relative path everywhere.
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (const file of walk(dir)) addJsExtensions(file);
}

/** NodeNext resolution wants explicit extensions on relative imports; the generator writes none. */
function addJsExtensions(file) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/(from '\.{1,2}\/[^']+?)(?<!\.js)'/g, "$1.js'");
  if (fixed !== text) writeFileSync(file, fixed);
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

process.stdout.write(`proto types generated in ${relative(root, outDir) || '.'}\n`);
