import { HpackError } from './errors.js';

/**
 * Bit length of the code of every symbol 0..255 and EOS (256), from RFC 7541 Appendix B. The code is
 * canonical (codes of one length are consecutive in symbol order, shorter codes sort first), so the
 * lengths alone determine every code; the tests check known codes against the RFC.
 */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;

/** Code of every symbol (right-aligned in the number), assigned canonically from the lengths. */
export const HUFFMAN_CODES: readonly number[] = (() => {
  const order = CODE_LENGTHS.map((_, symbol) => symbol).sort((a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b);
  const codes = new Array<number>(CODE_LENGTHS.length).fill(0);
  let code = 0;
  let previousLength = CODE_LENGTHS[order[0]!]!;
  order.forEach((symbol, i) => {
    const length = CODE_LENGTHS[symbol]!;
    if (i > 0) code = (code + 1) * 2 ** (length - previousLength);
    previousLength = length;
    codes[symbol] = code;
  });
  return codes;
})();

export const HUFFMAN_LENGTHS: readonly number[] = CODE_LENGTHS;

/**
 * The decoding tree as a flat array: node n's children are at 2n (bit 0) and 2n + 1 (bit 1); a value
 * >= 0 is the next node, a value < 0 is a leaf holding symbol -(value + 1). 0 means "no child" (the
 * root is never anyone's child).
 */
const TREE: Int32Array = (() => {
  const tree = new Int32Array(2 * 2 * CODE_LENGTHS.length);
  let nodes = 1;
  CODE_LENGTHS.forEach((length, symbol) => {
    const code = HUFFMAN_CODES[symbol]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) % 2);
      if (bit === 0) {
        tree[slot] = -(symbol + 1);
      } else {
        if (tree[slot] === 0) tree[slot] = nodes++;
        node = tree[slot]!;
      }
    }
  });
  return tree;
})();

/** Number of octets `bytes` takes Huffman-coded. */
export function huffmanEncodedLength(bytes: Uint8Array): number {
  let bits = 0;
  for (const b of bytes) bits += CODE_LENGTHS[b]!;
  return Math.ceil(bits / 8);
}

/** Huffman-codes `bytes`, padding the last octet with the most significant bits of EOS (all ones). */
export function huffmanEncode(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(huffmanEncodedLength(bytes));
  let acc = 0; // pending bits, right-aligned; kept under 8 + 30 bits, so it stays an exact integer
  let pending = 0;
  let at = 0;
  for (const b of bytes) {
    acc = acc * 2 ** CODE_LENGTHS[b]! + HUFFMAN_CODES[b]!;
    pending += CODE_LENGTHS[b]!;
    while (pending >= 8) {
      pending -= 8;
      out[at++] = Math.floor(acc / 2 ** pending) & 0xff;
      acc %= 2 ** pending;
    }
  }
  if (pending > 0) out[at] = ((acc << (8 - pending)) | (0xff >> pending)) & 0xff;
  return out;
}

/** Decodes a Huffman-coded string literal; rejects EOS in the data and padding that is not a short run of ones. */
export function huffmanDecode(coded: Uint8Array): Buffer {
  const out: number[] = [];
  let node = 0;
  let bitsSinceSymbol = 0;
  let onesSinceSymbol = true;
  for (const byte of coded) {
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      const next = TREE[2 * node + b]!;
      bitsSinceSymbol++;
      onesSinceSymbol &&= b === 1;
      if (next < 0) {
        const symbol = -(next + 1);
        if (symbol === EOS) throw new HpackError('Huffman-coded string contains EOS');
        out.push(symbol);
        node = 0;
        bitsSinceSymbol = 0;
        onesSinceSymbol = true;
      } else {
        node = next;
      }
    }
  }
  if (bitsSinceSymbol > 7) throw new HpackError('Huffman padding longer than 7 bits');
  if (!onesSinceSymbol) throw new HpackError('Huffman padding is not a prefix of EOS');
  return Buffer.from(out);
}
