import { HpackError } from './errors.js';
import { Reader } from './primitives.js';
import { STATIC_TABLE } from './static-table.js';

export interface HeaderField {
  /** Names and values as latin1 strings: one char per octet, so any byte round-trips. */
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (RFC 7541 6.2.3): intermediaries must keep it that way. */
  readonly neverIndexed?: boolean;
}

/** RFC 7541 4.1: an entry's size is its octets plus 32. */
const entrySize = (name: string, value: string): number => name.length + value.length + 32;

/**
 * Decodes the header blocks of one direction of one connection, in order: it keeps the dynamic table
 * that the peer's encoder fills (RFC 7541 2.3.2), so blocks must not be skipped or reordered.
 */
export class HpackDecoder {
  /** Newest first. */
  private readonly dynamic: [string, string][] = [];
  private size = 0;
  private capacity: number;

  /**
   * @param maxTableSize the largest table a size update may ask for (the SETTINGS_HEADER_TABLE_SIZE we
   *   would advertise); the table starts at the protocol's default of 4096.
   * @param maxHeaderListSize decoded names + values (+32 per field) one block may expand to, against
   *   blocks that reference large table entries again and again.
   */
  constructor(
    private readonly maxTableSize = 65_536,
    private readonly maxHeaderListSize = 1 << 20,
  ) {
    this.capacity = Math.min(4096, maxTableSize);
  }

  /** The dynamic table's current size in RFC 7541 octets (for tests and diagnostics). */
  get tableSize(): number {
    return this.size;
  }

  decode(block: Uint8Array): HeaderField[] {
    const r = new Reader(block);
    const fields: HeaderField[] = [];
    let listSize = 0;
    const add = (field: HeaderField): void => {
      listSize += entrySize(field.name, field.value);
      if (listSize > this.maxHeaderListSize) throw new HpackError(`decoded header list exceeds ${this.maxHeaderListSize} octets`);
      fields.push(field);
    };
    while (!r.done) {
      const b = r.peek();
      if (b & 0x80) {
        // 6.1 indexed field
        const [name, value] = this.entry(r.integer(7));
        add({ name, value });
      } else if (b & 0x40) {
        // 6.2.1 literal, added to the table
        const field = this.literal(r, 6);
        this.insert(field.name, field.value);
        add(field);
      } else if (b & 0x20) {
        // 6.3 table size update: only before the first field of a block
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        const size = r.integer(5);
        if (size > this.maxTableSize) throw new HpackError(`dynamic table size update to ${size} exceeds the maximum ${this.maxTableSize}`);
        this.capacity = size;
        this.evict(0);
      } else {
        // 6.2.2 without indexing (0000) / 6.2.3 never indexed (0001)
        const neverIndexed = (b & 0x10) !== 0;
        const field = this.literal(r, 4);
        add(neverIndexed ? { ...field, neverIndexed } : field);
      }
    }
    return fields;
  }

  private literal(r: Reader, prefixBits: number): HeaderField {
    const index = r.integer(prefixBits);
    const name = index === 0 ? r.string() : this.entry(index)[0];
    return { name, value: r.string() };
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0 is not a table entry');
    const fromStatic = STATIC_TABLE[index - 1];
    if (fromStatic) return fromStatic;
    const fromDynamic = this.dynamic[index - STATIC_TABLE.length - 1];
    if (!fromDynamic) throw new HpackError(`index ${index} is beyond the static and dynamic tables (${STATIC_TABLE.length + this.dynamic.length} entries)`);
    return fromDynamic;
  }

  private insert(name: string, value: string): void {
    const size = entrySize(name, value);
    // 4.4: an entry larger than the table empties it and is not added
    this.evict(size);
    if (size <= this.capacity) {
      this.dynamic.unshift([name, value]);
      this.size += size;
    }
  }

  /** Drops the oldest entries until `room` more octets fit. */
  private evict(room: number): void {
    while (this.size + room > this.capacity && this.dynamic.length > 0) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= entrySize(name, value);
    }
  }
}
