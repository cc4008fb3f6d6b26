import { hash } from 'node:crypto';

/**
 * The fake runtime's object IDs: 64 lowercase hex digits, as containerd's, that repeat with the seed.
 *
 * Each ID is eight 32-bit lanes. Lane i is a bijective mix (murmur3's finalizer) of a per-seed offset
 * plus the counter times an odd constant, so lane 0, the first 8 digits, alone differs between any two
 * of a generator's first 2^32 IDs: IDs are unique and an 8-digit prefix names one object. Lanes 1-7 also
 * mix in the kind (sandbox, container, exec); every lane mixes in the counter's high bits. One SHA-256 per seed and kind
 * replaces one per ID, which was a measurable share of a pod's lifecycle in the fake.
 */
export class IdGenerator {
  private counter = 0;
  private readonly offsets = new Map<string, Uint32Array>();

  constructor(private readonly seed: string) {}

  next(kind: string): string {
    const n = ++this.counter;
    const low = n >>> 0;
    const high = Math.floor(n / 0x1_0000_0000) >>> 0;
    const k = this.offsetsOf(kind);
    // Hex digits through a table in JS: Buffer's hex conversion crosses into C++, which cost more here.
    let id = '';
    for (let lane = 0; lane < 8; lane++) {
      const h = fmix32((k[lane]! + Math.imul(low, ODD[lane]!) + Math.imul(high, ODD[7 - lane]!)) >>> 0);
      id += HEX[h >>> 24]! + HEX[(h >>> 16) & 0xff]! + HEX[(h >>> 8) & 0xff]! + HEX[h & 0xff]!;
    }
    return id;
  }

  private offsetsOf(kind: string): Uint32Array {
    let offsets = this.offsets.get(kind);
    if (!offsets) {
      const seedOnly = hash('sha256', this.seed, 'buffer');
      const withKind = hash('sha256', `${this.seed}\n${kind}`, 'buffer');
      offsets = new Uint32Array(8);
      // Lane 0 depends on the seed only, so it stays a bijection of the counter across kinds.
      for (let lane = 0; lane < 8; lane++) offsets[lane] = (lane === 0 ? seedOnly : withKind).readUInt32BE(lane * 4);
      this.offsets.set(kind, offsets);
    }
    return offsets;
  }
}

/** Two lowercase hex digits for each byte value. */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Odd multipliers (bijective modulo 2^32), one per lane. */
const ODD = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646d, 0xfd7046c5, 0xb55a4f09];

/** murmur3's 32-bit finalizer: a bijection with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
