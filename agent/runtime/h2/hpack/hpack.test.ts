import { describe, expect, it } from 'vitest';
import { FRAME, headerBlocks, nodeClientBytes, parseFrames } from '../../../../fakes/grpc/h2-authority/testing.js';
import { HpackDecoder, type HeaderField } from './decoder.js';
import { encodeHeaderBlock } from './encoder.js';
import { HpackError } from './errors.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode } from './huffman.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (fields: readonly HeaderField[]): string[][] => fields.map((f) => [f.name, f.value]);

describe('HPACK (RFC 7541)', () => {
  it('assigns the Huffman codes of RFC 7541 Appendix B', () => {
    // [symbol, code, length] rows of the RFC's table
    const rows: [number, number, number][] = [
      [0, 0x1ff8, 13],
      [32, 0x14, 6],
      [48, 0x0, 5],
      [97, 0x3, 5],
      [127, 0xffffffc, 28],
      [255, 0x3ffffee, 26],
      [256, 0x3fffffff, 30],
    ];
    for (const [symbol, code, length] of rows) expect([HUFFMAN_CODES[symbol], HUFFMAN_LENGTHS[symbol]]).toEqual([code, length]);
  });

  it('Huffman-codes "www.example.com" as in RFC 7541 C.4.1 and round-trips every octet value', () => {
    expect(huffmanEncode(Buffer.from('www.example.com')).toString('hex')).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    for (let n = 0; n < 12; n++) expect(huffmanDecode(huffmanEncode(all.subarray(200, 200 + n)))).toEqual(all.subarray(200, 200 + n));
  });

  it('decodes the request examples of RFC 7541 C.3 (plain) and C.4 (Huffman), keeping the dynamic table between blocks', () => {
    const expected = [
      [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
      [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
      [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
    ];
    const tableSizes = [57, 110, 164];
    const examples = {
      'C.3': ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565'],
      'C.4': ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf'],
    };
    for (const blocks of Object.values(examples)) {
      const decoder = new HpackDecoder();
      blocks.forEach((block, i) => {
        expect(pairs(decoder.decode(hex(block)))).toEqual(expected[i]);
        expect(decoder.tableSize).toBe(tableSizes[i]);
      });
    }
  });

  it('evicts the oldest entries when a size update shrinks the table, and refuses references to evicted ones', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('828684410f7777772e6578616d706c652e636f6d')); // [62] :authority www.example.com (57)
    decoder.decode(hex('828684be58086e6f2d6361636865')); // [62] cache-control no-cache (53), [63] :authority
    // size update to 60: only the newest entry (53 octets) still fits
    expect(pairs(decoder.decode(hex('3f1d be')))).toEqual([['cache-control', 'no-cache']]);
    expect(decoder.tableSize).toBe(53);
    expect(() => decoder.decode(hex('bf'))).toThrow(/index 63 is beyond/);
  });

  it('decodes what Node\'s own HTTP/2 client sends on one connection (Huffman strings, dynamic-table references)', async () => {
    const requests = [0, 1, 2].map((i) => ({
      ':method': 'POST',
      ':path': '/runtime.v1.RuntimeService/Version',
      ':authority': '/run/containerd/containerd.sock',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'grpc-go/1.51.0',
      'x-request': `n${i}`,
    }));
    const blocks = headerBlocks(parseFrames(await nodeClientBytes(requests)).filter((f) => f.type === FRAME.HEADERS));
    expect(blocks).toHaveLength(3);
    const decoder = new HpackDecoder();
    blocks.forEach(({ block }, i) => {
      const fields = Object.fromEntries(pairs(decoder.decode(block)));
      expect(fields).toMatchObject({ ...requests[i], ':scheme': 'http' });
    });
    // the later blocks are far smaller: they refer to the dynamic table
    expect(blocks[2]!.block.length).toBeLessThan(blocks[0]!.block.length / 2);
    expect(decoder.tableSize).toBeGreaterThan(0);
  });

  it('encodes without touching the dynamic table, and what it encodes decodes to the same fields', () => {
    const fields: HeaderField[] = [
      { name: ':method', value: 'POST' },
      { name: ':scheme', value: 'http' },
      { name: ':path', value: '/runtime.v1.RuntimeService/Version' },
      { name: ':authority', value: 'localhost' },
      { name: 'content-type', value: 'application/grpc' },
      { name: 'grpc-timeout', value: '29999912u' },
      { name: 'x-binary-bin', value: Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i)).toString('latin1') },
      { name: 'authorization', value: 'secret', neverIndexed: true },
      { name: 'x-long', value: 'v'.repeat(1000) },
    ];
    const decoder = new HpackDecoder();
    const block = encodeHeaderBlock(fields);
    expect(decoder.decode(block)).toEqual(fields);
    expect(decoder.tableSize).toBe(0);
    expect(block[0]).toBe(0x83); // static entry 3, :method POST
  });

  it('rejects malformed header blocks with an HpackError naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['80', /index 0/],
      ['ff00', /index 127 is beyond/],
      ['4005616263', /runs past the end/], // a name claiming 5 octets, 3 given
      ['40', /ends in the middle/],
      ['3fe21f', /4097 exceeds the maximum 4096/], // size update to 31 + 98 + 31 * 128
      ['8220', /size update after a header field/],
      ['1f ffffffff0f', /overflows/],
      ['4081ff0161', /padding/], // Huffman name of one octet 0xff: 8 bits of padding
      ['4084ffffffff0161', /EOS/],
    ];
    const decoder = (): HpackDecoder => new HpackDecoder(4096);
    for (const [block, message] of cases) {
      let error: unknown;
      try {
        decoder().decode(hex(block));
      } catch (err) {
        error = err;
      }
      expect(error, block).toBeInstanceOf(HpackError);
      expect((error as Error).message, block).toMatch(message);
    }
  });
});
