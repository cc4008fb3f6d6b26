import { HpackError } from './errors.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';

/** Largest integer the decoder accepts: far above any table index or string length a sane peer sends. */
const MAX_INTEGER = 2 ** 31 - 1;

/** A cursor over one header block. */
export class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  peek(): number {
    const b = this.bytes[this.offset];
    if (b === undefined) throw new HpackError('header block ends in the middle of a field');
    return b;
  }

  /** RFC 7541 5.1: an integer with an N-bit prefix in the current octet (whose high bits the caller has read). */
  integer(prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    let value = this.peek() & max;
    this.offset++;
    if (value < max) return value;
    let shift = 0;
    for (;;) {
      const b = this.peek();
      this.offset++;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > MAX_INTEGER) throw new HpackError('integer overflows 2^31 - 1');
      if ((b & 0x80) === 0) return value;
    }
  }

  /** RFC 7541 5.2: a string literal (H bit, 7-bit-prefixed length, octets), as a latin1 string (one char per octet). */
  string(): string {
    const huffman = (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    if (this.offset + length > this.bytes.length) throw new HpackError(`string literal of ${length} octets runs past the end of the header block`);
    const raw = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return (huffman ? huffmanDecode(raw) : Buffer.from(raw)).toString('latin1');
  }
}

/** Appends an N-bit-prefixed integer; `highBits` fills the bits above the prefix in the first octet. */
export function writeInteger(out: number[], value: number, prefixBits: number, highBits: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(highBits | value);
    return;
  }
  out.push(highBits | max);
  let rest = value - max;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Appends a string literal, Huffman-coded when that is shorter. */
export function writeString(out: number[], value: string): void {
  const bytes = Buffer.from(value, 'latin1');
  if (huffmanEncodedLength(bytes) < bytes.length) {
    const coded = huffmanEncode(bytes);
    writeInteger(out, coded.length, 7, 0x80);
    for (const b of coded) out.push(b);
  } else {
    writeInteger(out, bytes.length, 7, 0);
    for (const b of bytes) out.push(b);
  }
}
