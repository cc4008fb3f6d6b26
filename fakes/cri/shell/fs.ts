import * as nodeFs from 'node:fs';
import { posix } from 'node:path';

/** A file-system error with the message busybox prints, e.g. "can't open 'x': No such file or directory". */
export class FsError extends Error {
  constructor(
    readonly reason: 'ENOENT' | 'EISDIR' | 'ENOTDIR' | 'EEXIST' | 'ENOTEMPTY' | 'EROFS' | 'EIO',
    message: string,
  ) {
    super(message);
  }
}

const REASON_TEXT: Record<FsError['reason'], string> = {
  ENOENT: 'No such file or directory',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  EROFS: 'Read-only file system',
  EIO: 'I/O error',
};

export function fsError(reason: FsError['reason']): FsError {
  return new FsError(reason, REASON_TEXT[reason]);
}

export interface BindMount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readonly: boolean;
}

type Node = { readonly kind: 'file'; readonly data: string } | { readonly kind: 'dir' };

/** Nodes are replaced, never changed, so every directory can share one. */
const DIR: Node = Object.freeze({ kind: 'dir' });

/** The directories of every image's root, copied into each container's layer. */
const BASE_TREE: ReadonlyMap<string, Node> = new Map(
  ['/', '/bin', '/dev', '/etc', '/home', '/proc', '/root', '/run', '/sys', '/tmp', '/usr', '/var', '/var/log'].map((dir) => [dir, DIR]),
);

/**
 * A container's root file system: an in-memory writable layer plus bind mounts that reach the host
 * (CRI Mount.host_path), so volumes shared between containers of a pod, or prepared by a test on the
 * host, behave as on a real runtime. Paths are absolute, POSIX.
 */
export interface ContainerFsOptions {
  readonly mounts?: readonly BindMount[];
  /** The image's files in the layer, or a function giving them (called once, on the first access). */
  readonly files?: Record<string, string> | (() => Record<string, string>);
}

export class ContainerFs {
  /**
   * The layer and the mounts are built on first use: most containers (a pod started and stopped again)
   * never look at their file system, and building both was a measurable share of CreateContainer.
   */
  private layer: Map<string, Node> | null = null;
  private sortedMounts: BindMount[] | null = null;

  constructor(private readonly options: ContainerFsOptions = {}) {}

  private get nodes(): Map<string, Node> {
    if (this.layer) return this.layer;
    this.layer = new Map<string, Node>(BASE_TREE);
    const files = typeof this.options.files === 'function' ? this.options.files() : this.options.files;
    // Image files live in the layer: a bind mount over one hides it and its host file stays untouched.
    for (const [path, data] of Object.entries(files ?? {})) this.seed(clean(path), data);
    return this.layer;
  }

  private get mounts(): BindMount[] {
    this.sortedMounts ??= [...(this.options.mounts ?? [])]
      .map((m) => ({ ...m, containerPath: posix.normalize(m.containerPath) }))
      .sort((a, b) => b.containerPath.length - a.containerPath.length);
    return this.sortedMounts;
  }

  private seed(path: string, data: string): void {
    for (let dir = posix.dirname(path); !this.nodes.has(dir); dir = posix.dirname(dir)) this.nodes.set(dir, DIR);
    this.nodes.set(path, { kind: 'file', data });
  }

  /** Bytes held by the writable layer (what rootfs usage reports). */
  writableBytes(): number {
    let sum = 0;
    for (const node of this.nodes.values()) if (node.kind === 'file') sum += Buffer.byteLength(node.data);
    return sum;
  }

  stat(path: string): 'file' | 'dir' | null {
    path = clean(path);
    if (path === '/dev/null') return 'file';
    const host = this.hostPath(path);
    if (host) {
      try {
        return nodeFs.statSync(host.path).isDirectory() ? 'dir' : 'file';
      } catch {
        return null;
      }
    }
    return this.nodes.get(path)?.kind ?? null;
  }

  size(path: string): number {
    path = clean(path);
    const host = this.hostPath(path);
    if (host) return nodeFs.statSync(host.path).size;
    const node = this.nodes.get(path);
    return node?.kind === 'file' ? Buffer.byteLength(node.data) : 0;
  }

  readFile(path: string): string {
    path = clean(path);
    if (path === '/dev/null') return '';
    const host = this.hostPath(path);
    if (host) return hostCall(() => nodeFs.readFileSync(host.path, 'utf8'));
    const node = this.nodes.get(path);
    if (!node) throw fsError('ENOENT');
    if (node.kind === 'dir') throw fsError('EISDIR');
    return node.data;
  }

  writeFile(path: string, data: string, append: boolean): void {
    path = clean(path);
    if (path === '/dev/null') return;
    const host = this.hostPath(path);
    if (host) {
      if (host.readonly) throw fsError('EROFS');
      hostCall(() => (append ? nodeFs.appendFileSync(host.path, data) : nodeFs.writeFileSync(host.path, data)));
      return;
    }
    const parent = this.nodes.get(posix.dirname(path));
    if (!parent) throw fsError('ENOENT');
    if (parent.kind !== 'dir') throw fsError('ENOTDIR');
    const node = this.nodes.get(path);
    if (node?.kind === 'dir') throw fsError('EISDIR');
    this.nodes.set(path, { kind: 'file', data: append && node ? node.data + data : data });
  }

  mkdir(path: string, parents: boolean): void {
    path = clean(path);
    const host = this.hostPath(path);
    if (host) {
      if (host.readonly) throw fsError('EROFS');
      hostCall(() => nodeFs.mkdirSync(host.path, { recursive: parents }));
      return;
    }
    const existing = this.nodes.get(path);
    if (existing) {
      if (parents && existing.kind === 'dir') return;
      throw fsError('EEXIST');
    }
    const parent = posix.dirname(path);
    if (!this.nodes.has(parent)) {
      if (!parents) throw fsError('ENOENT');
      this.mkdir(parent, true);
    }
    if (this.nodes.get(parent)?.kind !== 'dir') throw fsError('ENOTDIR');
    this.nodes.set(path, DIR);
  }

  remove(path: string, recursive: boolean): void {
    path = clean(path);
    const host = this.hostPath(path);
    if (host) {
      if (host.readonly) throw fsError('EROFS');
      hostCall(() => nodeFs.rmSync(host.path, { recursive }));
      return;
    }
    const node = this.nodes.get(path);
    if (!node) throw fsError('ENOENT');
    if (node.kind === 'dir') {
      const children = this.childrenOf(path);
      if (!recursive) throw fsError('EISDIR');
      for (const child of children) this.nodes.delete(child);
    }
    if (path !== '/') this.nodes.delete(path);
  }

  list(dir: string): string[] {
    dir = clean(dir);
    const host = this.hostPath(dir);
    if (host) return hostCall(() => nodeFs.readdirSync(host.path)).sort();
    const node = this.nodes.get(dir);
    if (!node) throw fsError('ENOENT');
    if (node.kind !== 'dir') return [posix.basename(dir)];
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const names = new Set<string>();
    for (const path of this.nodes.keys()) {
      if (path !== dir && path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0]!);
    }
    for (const m of this.mounts) {
      if (m.containerPath.startsWith(prefix)) names.add(m.containerPath.slice(prefix.length).split('/')[0]!);
    }
    return [...names].sort();
  }

  private childrenOf(dir: string): string[] {
    const prefix = dir === '/' ? '/' : `${dir}/`;
    return [...this.nodes.keys()].filter((p) => p !== dir && p.startsWith(prefix));
  }

  private hostPath(path: string): { path: string; readonly: boolean } | null {
    for (const m of this.mounts) {
      if (path === m.containerPath || path.startsWith(`${m.containerPath}/`)) {
        return { path: m.hostPath + path.slice(m.containerPath.length), readonly: m.readonly };
      }
    }
    return null;
  }
}

/** Absolute, normalised, without a trailing slash ("/www/" and "/www/." are "/www"). */
function clean(path: string): string {
  const normal = posix.normalize(path.startsWith('/') ? path : `/${path}`);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function hostCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EROFS') {
      throw fsError(code);
    }
    throw fsError('EIO');
  }
}
