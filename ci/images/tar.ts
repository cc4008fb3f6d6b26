/**
 * A minimal, deterministic ustar writer for image layers: entries sorted by path, every timestamp 0, owner and
 * group 0 with empty names, missing parent directories added. Identical inputs give identical bytes, so layer
 * digests are stable across builds and machines with the same input files.
 */

export type TarEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly content: Uint8Array }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string }
  | { readonly type: 'hardlink'; readonly path: string; readonly target: string };

const BLOCK = 512;

/**
 * One file reachable under several names. The first name in sort order carries the content (a tar hard link must
 * refer to an entry that came before it); the others become hard links to it.
 */
export function hardLinkGroup(paths: readonly string[], mode: number, content: Uint8Array): TarEntry[] {
  if (paths.length === 0) throw new Error('hardLinkGroup: at least one path is required');
  const sorted = [...new Set(paths.map(normalizePath))].sort(comparePaths);
  const [first, ...rest] = sorted as [string, ...string[]];
  return [{ type: 'file', path: first, mode, content }, ...rest.map((path): TarEntry => ({ type: 'hardlink', path, target: first }))];
}

/** The complete archive (with the two terminating zero blocks). */
export function writeTar(entries: readonly TarEntry[]): Buffer {
  const byPath = new Map<string, TarEntry>();
  for (const entry of entries) {
    const path = normalizePath(entry.path);
    if (byPath.has(path)) throw new Error(`tar: duplicate entry for path "${path}"`);
    byPath.set(path, { ...entry, path } as TarEntry);
  }
  // Parent directories the caller did not list get 0755.
  for (const path of [...byPath.keys()]) {
    for (let parent = parentOf(path); parent !== ''; parent = parentOf(parent)) {
      if (!byPath.has(parent)) byPath.set(parent, { type: 'dir', path: parent, mode: 0o755 });
    }
  }
  const ordered = [...byPath.values()].sort((a, b) => comparePaths(a.path, b.path));

  const written = new Set<string>();
  const chunks: Buffer[] = [];
  for (const entry of ordered) {
    const existing = byPath.get(parentOf(entry.path));
    if (existing !== undefined && existing.type !== 'dir') throw new Error(`tar: "${entry.path}" is below non-directory "${existing.path}"`);
    if (entry.type === 'hardlink') {
      const target = normalizePath(entry.target);
      if (!written.has(target)) throw new Error(`tar: hard link "${entry.path}" refers to "${target}", which is not an earlier entry`);
      if (byPath.get(target)?.type !== 'file') throw new Error(`tar: hard link "${entry.path}" must refer to a regular file`);
    }
    // A hard link header repeats its file's mode: extractors may chmod the shared inode with it.
    const target = entry.type === 'hardlink' ? byPath.get(normalizePath(entry.target)) : undefined;
    chunks.push(header(entry, target?.type === 'file' ? target.mode : 0o644));
    if (entry.type === 'file') {
      chunks.push(Buffer.from(entry.content.buffer, entry.content.byteOffset, entry.content.byteLength));
      const pad = (BLOCK - (entry.content.byteLength % BLOCK)) % BLOCK;
      if (pad > 0) chunks.push(Buffer.alloc(pad));
    }
    written.add(entry.path);
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(chunks);
}

function header(entry: TarEntry, linkMode: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const [prefix, base] = splitName(name);
  writeString(block, 0, 100, base, 'name', entry.path);
  const mode = entry.type === 'symlink' ? 0o777 : entry.type === 'hardlink' ? linkMode : entry.mode;
  writeOctal(block, 100, 8, mode & 0o7777);
  writeOctal(block, 108, 8, 0); // uid
  writeOctal(block, 116, 8, 0); // gid
  writeOctal(block, 124, 12, entry.type === 'file' ? entry.content.byteLength : 0);
  writeOctal(block, 136, 12, 0); // mtime
  block.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces while summing
  block.write(typeFlag(entry), 156, 1, 'ascii');
  if (entry.type === 'symlink' || entry.type === 'hardlink') writeString(block, 157, 100, normalizeLinkTarget(entry), 'link target', entry.path);
  block.write('ustar\u0000', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  writeOctal(block, 329, 8, 0); // devmajor
  writeOctal(block, 337, 8, 0); // devminor
  writeString(block, 345, 155, prefix, 'name prefix', entry.path);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

function typeFlag(entry: TarEntry): string {
  switch (entry.type) {
    case 'file':
      return '0';
    case 'hardlink':
      return '1';
    case 'symlink':
      return '2';
    case 'dir':
      return '5';
  }
}

function normalizeLinkTarget(entry: TarEntry & { target: string }): string {
  // Symlink targets are kept as given (absolute or relative); hard link targets are archive paths.
  return entry.type === 'hardlink' ? normalizePath(entry.target) : entry.target;
}

/** ustar keeps up to 155 bytes of directory prefix and 100 bytes of name. */
function splitName(name: string): [string, string] {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  for (let i = trimmed.lastIndexOf('/'); i > 0; i = trimmed.lastIndexOf('/', i - 1)) {
    const prefix = name.slice(0, i);
    const base = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(base) <= 100) return [prefix, base];
  }
  throw new Error(`tar: path "${name}" is too long for a ustar header`);
}

function writeString(block: Buffer, offset: number, length: number, value: string, field: string, path: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${field} of "${path}" is longer than ${length} bytes`);
  bytes.copy(block, offset);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new Error(`tar: value ${value} does not fit a ${length}-byte field`);
  block.write(`${digits}\u0000`, offset, length, 'ascii');
}

function normalizePath(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0) throw new Error(`tar: empty path "${path}"`);
  if (parts.includes('..')) throw new Error(`tar: path "${path}" must not contain ".."`);
  return parts.join('/');
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** Component-wise order: a directory comes right before its contents ("a" < "a/b" < "a-b"). */
function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i] as string;
    const y = pb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
