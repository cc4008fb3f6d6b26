import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, errorChannelPayload, negotiate, offeredSubprotocols, outcomeStatus, readyChannel } from './streaming-protocol.js';

describe('the channel protocol', () => {
  it('picks the first offered subprotocol it supports, in the client order, the unnamed one when none is offered', () => {
    expect(negotiate(offeredSubprotocols('v5.channel.k8s.io, v4.channel.k8s.io'))?.name).toBe('v5.channel.k8s.io');
    expect(negotiate(offeredSubprotocols(['v9.channel.k8s.io', 'v4.base64.channel.k8s.io']))).toEqual({ name: 'v4.base64.channel.k8s.io', binary: false, version: 4 });
    expect(negotiate(offeredSubprotocols(undefined))).toEqual({ name: '', binary: true, version: 1 });
    expect(negotiate(['v9.channel.k8s.io'])).toBeNull();
  });

  it('frames binary messages with the channel byte and base64 messages with the channel digit', () => {
    const v5 = negotiate(['v5.channel.k8s.io'])!;
    const b64 = negotiate(['base64.channel.k8s.io'])!;
    expect(encodeFrame(v5, 1, Buffer.from('hi'))).toEqual(Buffer.from([1, 104, 105]));
    expect(encodeFrame(b64, 2, Buffer.from('hi'))).toBe('2aGk=');
    expect(decodeFrame(b64, Buffer.from('0aGk='))).toEqual({ kind: 'data', channel: 0, data: Buffer.from('hi') });
    expect(decodeFrame(v5, Buffer.from([0, 104]))).toEqual({ kind: 'data', channel: 0, data: Buffer.from('h') });
  });

  it('understands the v5 close signal only under v5 and ignores what upstream ignores', () => {
    const v5 = negotiate(['v5.channel.k8s.io'])!;
    const v4 = negotiate(['v4.channel.k8s.io'])!;
    expect(decodeFrame(v5, Buffer.from([255, 0]))).toEqual({ kind: 'close', channel: 0 });
    expect(decodeFrame(v5, Buffer.from([255])).kind).toBe('ignored');
    expect(decodeFrame(v4, Buffer.from([255, 0])).kind).toBe('ignored');
    expect(decodeFrame(v4, Buffer.alloc(0)).kind).toBe('ignored');
    expect(decodeFrame(negotiate(['base64.channel.k8s.io'])!, Buffer.from('0***')).kind).toBe('ignored');
  });

  it('reports outcomes as Status objects from v4 and as bare failure messages before', () => {
    const v4 = negotiate(['v4.channel.k8s.io'])!;
    const v1 = negotiate(['channel.k8s.io'])!;
    expect(errorChannelPayload(v4, outcomeStatus(['true'], { exitCode: 0 }))?.toString()).toBe('{"metadata":{},"status":"Success"}');
    expect(errorChannelPayload(v1, outcomeStatus(['true'], { exitCode: 0 }))).toBeNull();
    expect(JSON.parse(errorChannelPayload(v4, outcomeStatus(['false'], { exitCode: 1 }))!.toString())).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [false], exit code 1',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '1' }] },
    });
    expect(errorChannelPayload(v1, outcomeStatus(['x'], { error: 'boom' }))?.toString()).toBe('Internal error occurred: error executing command in container: boom');
  });

  it('announces the connection on stdout, else stderr, else the error channel', () => {
    expect(readyChannel({ stdout: true, stderr: true })).toBe(1);
    expect(readyChannel({ stdout: false, stderr: true })).toBe(2);
    expect(readyChannel({ stdout: false, stderr: false })).toBe(3);
  });
});
