import { describe, expect, it } from 'vitest';
import { HpackDecoder, type HeaderField } from '../../../agent/runtime/h2/hpack/decoder.js';
import { encodeHeaderBlock } from '../../../agent/runtime/h2/hpack/encoder.js';
import { AuthorityFilter, H2FilterError } from './frame-filter.js';
import { FLAG, FRAME, frame, headerBlocks, nodeClientBytes, parseFrames, PREFACE } from './testing.js';

const grpcRequest = (authority: string, extra: Record<string, string> = {}) => ({
  ':method': 'POST',
  ':path': '/runtime.v1.RuntimeService/Version',
  ':authority': authority,
  'content-type': 'application/grpc',
  te: 'trailers',
  ...extra,
});

/** Feeds `bytes` to a fresh filter in pieces of `size` octets (all at once when omitted). */
function run(bytes: Buffer, size = bytes.length): { filter: AuthorityFilter; out: Buffer } {
  const filter = new AuthorityFilter();
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(...filter.push(bytes.subarray(at, at + size)));
  return { filter, out: Buffer.concat(out) };
}

function decodedRequests(bytes: Buffer): Record<string, string>[] {
  const decoder = new HpackDecoder();
  return headerBlocks(parseFrames(bytes)).map(({ block }) => Object.fromEntries(decoder.decode(block).map((f) => [f.name, f.value])));
}

const settings = frame(FRAME.SETTINGS, 0, 0, Buffer.from([0, 2, 0, 0, 0, 0]));
const headers = (streamId: number, fields: HeaderField[], flags = FLAG.END_HEADERS): Buffer => frame(FRAME.HEADERS, flags, streamId, encodeHeaderBlock(fields));
const field = (name: string, value: string): HeaderField => ({ name, value });

describe('the HTTP/2 :authority filter', () => {
  it('passes a client with an acceptable :authority through byte for byte, however its bytes are split', async () => {
    const bytes = await nodeClientBytes([grpcRequest('localhost'), grpcRequest('localhost')]);
    for (const size of [1, 7, 9, 100, bytes.length]) {
      const { filter, out } = run(bytes, size);
      expect(out.equals(bytes), `pieces of ${size}`).toBe(true);
      expect(filter.mode).toBe('passthrough');
    }
  });

  it('rewrites every header block of a client that sends the socket path as :authority, dynamic-table references included', async () => {
    const requests = [0, 1, 2].map((i) => grpcRequest('/run/containerd/containerd.sock', { 'x-n': `${i}` }));
    const bytes = await nodeClientBytes(requests);
    const whole = run(bytes);
    expect(whole.filter.mode).toBe('rewriting');
    expect(whole.filter.replacedAuthority).toBe('/run/containerd/containerd.sock');
    expect(decodedRequests(whole.out)).toEqual(requests.map((r) => ({ ...r, ':authority': 'localhost', ':scheme': 'http' })));
    // non-header frames and flags are unchanged: same frame types, streams, END_STREAM bits, DATA payloads
    const shape = (b: Buffer) => parseFrames(b).map((f) => [f.type, f.streamId, f.flags, f.type === FRAME.HEADERS ? '' : f.payload.toString('hex')]);
    expect(shape(whole.out)).toEqual(shape(bytes));
    for (const size of [1, 5, 13]) expect(run(bytes, size).out.equals(whole.out), `pieces of ${size}`).toBe(true);
  });

  it('keeps priority and END_STREAM, drops padding, and splits a large block into CONTINUATION frames of at most 16384 octets', () => {
    const fields = [field(':method', 'POST'), field(':authority', '/tmp/cri.sock'), field(':path', '/x'), field('x-big', 'y'.repeat(40_000))];
    const block = encodeHeaderBlock(fields);
    const padded = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 1, 15]), block.subarray(0, 10_000), Buffer.alloc(3)]);
    const bytes = Buffer.concat([
      PREFACE,
      settings,
      frame(FRAME.HEADERS, FLAG.PADDED | FLAG.PRIORITY | FLAG.END_STREAM, 5, padded),
      frame(FRAME.CONTINUATION, 0, 5, block.subarray(10_000, 20_000)),
      frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 5, block.subarray(20_000)),
    ]);
    const out = parseFrames(run(bytes).out);
    expect(out.map((f) => [f.type, f.flags])).toEqual([
      [FRAME.SETTINGS, 0],
      [FRAME.HEADERS, FLAG.PRIORITY | FLAG.END_STREAM],
      [FRAME.CONTINUATION, 0],
      [FRAME.CONTINUATION, FLAG.END_HEADERS],
    ]);
    expect(out.every((f) => f.payload.length <= 16_384)).toBe(true);
    expect(out[1]!.payload.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 1, 15]));
    const decoded = new HpackDecoder().decode(headerBlocks(out)[0]!.block);
    expect(decoded).toEqual([fields[0], field(':authority', 'localhost'), fields[2], fields[3]]);
  });

  it('takes the acknowledgement of the early SETTINGS out of the stream, and settles only once it has come', async () => {
    const ack = frame(FRAME.SETTINGS, FLAG.ACK, 0);
    const bytes = await nodeClientBytes([grpcRequest('localhost')]);
    const prefaceAndSettings = PREFACE.length + 9 + parseFrames(bytes)[0]!.payload.length;
    const withAck = Buffer.concat([bytes.subarray(0, prefaceAndSettings), ack, bytes.subarray(prefaceAndSettings), ack]);
    for (const size of [1, 10, withAck.length]) {
      const filter = new AuthorityFilter({ dropFirstSettingsAck: true });
      const out: Buffer[] = [];
      for (let at = 0; at < withAck.length; at += size) out.push(...filter.push(withAck.subarray(at, at + size)));
      // the first ACK is gone, the second (the server's own SETTINGS' ACK) stays
      expect(Buffer.concat(out).equals(Buffer.concat([bytes, ack])), `pieces of ${size}`).toBe(true);
      expect(filter.settled).toBe(true);
    }
    // a header block alone does not settle the filter while the ACK is still to come
    const early = new AuthorityFilter({ dropFirstSettingsAck: true });
    early.push(bytes);
    expect([early.mode, early.settled]).toEqual(['passthrough', false]);
    expect(early.push(ack)).toEqual([]);
    expect(early.settled).toBe(true);
  });

  it('closes a rewriting connection that sends malformed frames or header blocks', () => {
    const start = Buffer.concat([PREFACE, settings, headers(1, [field(':authority', '/a.sock')])]);
    const malformed: [string, Buffer][] = [
      ['CONTINUATION without HEADERS', frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 3, Buffer.from([0x82]))],
      ['HEADERS on stream 0', frame(FRAME.HEADERS, FLAG.END_HEADERS, 0, Buffer.from([0x82]))],
      ['undecodable', frame(FRAME.HEADERS, FLAG.END_HEADERS, 3, Buffer.from([0xff, 0x00]))],
      ['padding', frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.PADDED, 3, Buffer.from([9, 0x82]))],
      ['other frame inside a block', Buffer.concat([frame(FRAME.HEADERS, 0, 3, Buffer.from([0x82])), frame(FRAME.PING, 0, 0, Buffer.alloc(8))])],
      ['oversized', Buffer.concat([frame(FRAME.HEADERS, 0, 3), Buffer.from([0])]).fill(0xff, 0, 3)],
    ];
    for (const [name, bad] of malformed) {
      const filter = new AuthorityFilter();
      filter.push(start);
      expect(filter.mode).toBe('rewriting');
      expect(() => filter.push(bad), name).toThrow(H2FilterError);
    }
  });

  it('steps aside, passing bytes on unchanged, when the first header block is malformed (the server then answers it)', () => {
    const bytes = Buffer.concat([PREFACE, settings, frame(FRAME.HEADERS, FLAG.END_HEADERS, 1, Buffer.from([0xff, 0x00])), frame(FRAME.PING, 0, 0, Buffer.alloc(8))]);
    for (const size of [1, bytes.length]) {
      const { filter, out } = run(bytes, size);
      expect(out.equals(bytes)).toBe(true);
      expect(filter.mode).toBe('passthrough');
    }
  });
});
