import type { V1ResourceRequirements } from '@kubernetes/client-node';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodAllocation } from './allocation.js';

/**
 * The allocation checkpoint (upstream pkg/kubelet/allocation/state): the resources allocated to each
 * pod, kept in `allocated_pods_state` in the kubelet root dir so an agent restarted mid-resize still
 * knows what it allocated and does not take a pending resize for an allocated one. The file holds the
 * entries as a JSON string plus a checksum of that string. A missing file starts empty (and is written
 * at once); a corrupt one stops the agent from starting, as upstream does: the node should be drained
 * and the file deleted.
 */

export const ALLOCATION_CHECKPOINT_FILE = 'allocated_pods_state';

/** pod UID → container name → allocated requests/limits. */
export type AllocationEntries = ReadonlyMap<string, PodAllocation>;

interface CheckpointFile {
  data: string;
  checksum: number;
}

export class CorruptCheckpointError extends Error {
  override readonly name = 'CorruptCheckpointError';
}

/** FNV-1a, 32 bits, over the UTF-8 bytes (upstream checksums with 32-bit FNV-1a too). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The checkpoint file's text for these allocations (pure). */
export function encodeCheckpoint(entries: AllocationEntries): string {
  const allocationEntries: Record<string, Record<string, V1ResourceRequirements>> = {};
  for (const [uid, allocation] of entries) allocationEntries[uid] = Object.fromEntries(allocation);
  const data = JSON.stringify({ allocationEntries });
  const file: CheckpointFile = { data, checksum: fnv1a32(data) };
  return `${JSON.stringify(file)}\n`;
}

/** Reads a checkpoint's text back; CorruptCheckpointError names what is wrong (pure). */
export function decodeCheckpoint(text: string): Map<string, PodAllocation> {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (e) {
    throw new CorruptCheckpointError(`not JSON: ${(e as Error).message}`);
  }
  if (!isObject(file) || typeof file['data'] !== 'string' || typeof file['checksum'] !== 'number') {
    throw new CorruptCheckpointError('expected {"data": string, "checksum": number}');
  }
  const actual = fnv1a32(file['data']);
  if (actual !== file['checksum']) throw new CorruptCheckpointError(`checkpoint is corrupted: checksum ${file['checksum']} does not match the data's ${actual}`);
  const data: unknown = JSON.parse(file['data']);
  const entries = isObject(data) ? data['allocationEntries'] : undefined;
  if (entries !== undefined && !isObject(entries)) throw new CorruptCheckpointError('data.allocationEntries: expected an object');
  const out = new Map<string, PodAllocation>();
  for (const [uid, containers] of Object.entries(entries ?? {})) {
    if (!isObject(containers)) throw new CorruptCheckpointError(`data.allocationEntries["${uid}"]: expected an object`);
    const allocation = new Map<string, V1ResourceRequirements>();
    for (const [name, resources] of Object.entries(containers)) {
      if (!isObject(resources)) throw new CorruptCheckpointError(`data.allocationEntries["${uid}"]["${name}"]: expected resource requirements`);
      allocation.set(name, resources as V1ResourceRequirements);
    }
    out.set(uid, allocation);
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where the allocation manager keeps its state across restarts. */
export interface AllocationStore {
  load(): Map<string, PodAllocation>;
  save(entries: AllocationEntries): void;
}

/** The checkpoint file under the kubelet root dir. */
export class FileAllocationStore implements AllocationStore {
  readonly path: string;

  constructor(
    rootDir: string,
    private readonly log: (msg: string) => void = () => undefined,
  ) {
    this.path = join(rootDir, ALLOCATION_CHECKPOINT_FILE);
  }

  /** The saved allocations; none (and an empty checkpoint written) when the file does not exist. */
  load(): Map<string, PodAllocation> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      this.log(`allocation checkpoint ${this.path} not found: starting with no allocations`);
      this.save(new Map());
      return new Map();
    }
    try {
      const entries = decodeCheckpoint(text);
      this.log(`allocation checkpoint: restored the allocations of ${entries.size} pod(s) from ${this.path}`);
      return entries;
    } catch (e) {
      throw new Error(
        `could not restore state from checkpoint: ${(e as Error).message}, please drain this node and delete pod allocation checkpoint file "${this.path}" before restarting the agent`,
      );
    }
  }

  /** Written beside and renamed over, so a crash mid-write leaves the previous checkpoint whole. */
  save(entries: AllocationEntries): void {
    const tmp = `${this.path}.tmp`;
    mkdirSync(join(this.path, '..'), { recursive: true });
    writeFileSync(tmp, encodeCheckpoint(entries), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
