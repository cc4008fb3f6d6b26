import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectedStreamCount, knownStreamType, offeredProtocolVersions, spdyHandshake, TerminalSizeDecoder } from './remotecommand-protocol.js';

describe('the SPDY remote command handshake', () => {
  it("picks the first offered version the server accepts, in the client's order, across repeated headers", () => {
    expect(offeredProtocolVersions(['v5.channel.k8s.io, v3.channel.k8s.io', ' v4.channel.k8s.io '])).toEqual(['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io']);
    expect(spdyHandshake(['v5.channel.k8s.io', 'v3.channel.k8s.io', 'v4.channel.k8s.io'])).toEqual({ name: 'v3.channel.k8s.io', version: 3 });
    expect(spdyHandshake(['channel.k8s.io'])).toEqual({ name: 'channel.k8s.io', version: 1 });
  });

  it('refuses no offer with 400 and no match with 403 listing what the server accepts', () => {
    expect(spdyHandshake([])).toEqual({ status: 400, headers: [], body: 'unable to upgrade: X-Stream-Protocol-Version is required\n' });
    const refusal = spdyHandshake(['x']);
    expect(refusal).toMatchObject({ status: 403 });
    expect('headers' in refusal && refusal.headers.map(([, v]) => v)).toEqual(['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']);
  });

  it('waits for the error stream, each requested stream, and resize under a TTY from v3 on', () => {
    const v4 = { name: 'v4.channel.k8s.io', version: 4 } as const;
    const v2 = { name: 'v2.channel.k8s.io', version: 2 } as const;
    expect(expectedStreamCount(v4, { stdin: true, stdout: true, stderr: false, tty: true })).toBe(4);
    expect(expectedStreamCount(v2, { stdin: true, stdout: true, stderr: false, tty: true })).toBe(3);
    expect(expectedStreamCount(v4, { stdin: false, stdout: true, stderr: true, tty: false })).toBe(3);
    expect([knownStreamType(v4, 'resize'), knownStreamType(v2, 'resize'), knownStreamType(v4, 'data'), knownStreamType(v4, undefined)]).toEqual(['resize', null, null, null]);
  });
});

describe('the resize stream decoder', () => {
  it('reads a sequence of JSON sizes whatever the chunking, with case-insensitive field names', () => {
    const text = '{"Width":80,"Height":24}\n{"width":132, "HEIGHT":43}{"Height":7}';
    for (let cut = 0; cut <= text.length; cut++) {
      const decoder = new TerminalSizeDecoder();
      const sizes = [...decoder.push(Buffer.from(text.slice(0, cut))), ...decoder.push(Buffer.from(text.slice(cut)))];
      expect(sizes).toEqual([
        { width: 80, height: 24 },
        { width: 132, height: 43 },
        { width: 0, height: 7 },
      ]);
    }
  });

  it('stops for good at the first value that is not a size, as the kubelet decoder loop does', () => {
    const decoder = new TerminalSizeDecoder();
    expect(decoder.push(Buffer.from('{"Width":80,"Height":24} {"Width":70000,"Height":1} {"Width":1,"Height":1}'))).toEqual([{ width: 80, height: 24 }]);
    expect(decoder.push(Buffer.from('{"Width":2,"Height":2}'))).toEqual([]);
    expect(new TerminalSizeDecoder().push(Buffer.from('[1] {"Width":1}'))).toEqual([]);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 8 }), (chunks) => {
        const decoder = new TerminalSizeDecoder();
        for (const c of chunks) for (const s of decoder.push(c)) expect(s.width >= 0 && s.width <= 0xffff && s.height >= 0 && s.height <= 0xffff).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
