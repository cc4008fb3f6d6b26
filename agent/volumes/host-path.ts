import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';

export const HOST_PATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'] as const;
export type HostPathType = (typeof HOST_PATH_TYPES)[number];

export function isHostPathType(value: string): value is HostPathType {
  return (HOST_PATH_TYPES as readonly string[]).includes(value);
}

/**
 * kubelet's hostPath type check (pkg/volume/hostpath): `DirectoryOrCreate` makes the directory
 * (0755) and `FileOrCreate` the file (0644, the parent must exist); the other types only check
 * what is there. Throws with upstream's wording (`hostPath type check failed: /x is not a directory`).
 */
export function checkHostPath(path: string, type: HostPathType): void {
  const kind = (): ReturnType<typeof statSync> | undefined => {
    try {
      return statSync(path);
    } catch {
      return undefined;
    }
  };
  const fail = (what: string): never => {
    throw new Error(`hostPath type check failed: ${path} is not ${what}`);
  };
  switch (type) {
    case '':
      return;
    case 'DirectoryOrCreate': {
      const st = kind();
      if (!st) mkdirSync(path, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) fail('a directory');
      return;
    }
    case 'Directory':
      if (!kind()?.isDirectory()) fail('a directory');
      return;
    case 'FileOrCreate': {
      const st = kind();
      if (!st) {
        try {
          closeSync(openSync(path, 'a', 0o644));
        } catch (err) {
          throw new Error(`hostPath type check failed: cannot create file ${path}: ${(err as Error).message}`);
        }
      } else if (!st.isFile()) fail('a file');
      return;
    }
    case 'File':
      if (!kind()?.isFile()) fail('a file');
      return;
    case 'Socket':
      if (!kind()?.isSocket()) fail('a socket file');
      return;
    case 'CharDevice':
      if (!kind()?.isCharacterDevice()) fail('a character device');
      return;
    case 'BlockDevice':
      if (!kind()?.isBlockDevice()) fail('a block device');
      return;
  }
}
