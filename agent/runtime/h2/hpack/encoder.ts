import type { HeaderField } from './decoder.js';
import { writeInteger, writeString } from './primitives.js';
import { STATIC_INDEX_BY_FIELD, STATIC_INDEX_BY_NAME } from './static-table.js';

/**
 * Encodes a header block without touching the peer's dynamic table: static-table references and
 * literals "without indexing" (or "never indexed" where the field asks), so blocks can be inserted
 * into a connection whose decoder state this encoder does not know. Strings are Huffman-coded when
 * that is shorter.
 */
export function encodeHeaderBlock(fields: readonly HeaderField[]): Buffer {
  const out: number[] = [];
  for (const { name, value, neverIndexed } of fields) {
    const exact = neverIndexed ? undefined : STATIC_INDEX_BY_FIELD.get(`${name}\0${value}`);
    if (exact !== undefined) {
      writeInteger(out, exact, 7, 0x80);
      continue;
    }
    const high = neverIndexed ? 0x10 : 0x00;
    const nameIndex = STATIC_INDEX_BY_NAME.get(name);
    if (nameIndex !== undefined) {
      writeInteger(out, nameIndex, 4, high);
    } else {
      out.push(high);
      writeString(out, name);
    }
    writeString(out, value);
  }
  return Buffer.from(out);
}
