/**
 * HTTP/2 framing (RFC 9113 §4, §6) as the agent's gRPC unary transport needs it: frame types, flags,
 * settings identifiers, error codes and limits, builders for the frames a client sends, and the error a
 * frame that breaks the protocol raises (a connection error, RFC 9113 §5.4.1).
 */

export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const SETTING = { HEADER_TABLE_SIZE: 0x1, ENABLE_PUSH: 0x2, MAX_CONCURRENT_STREAMS: 0x3, INITIAL_WINDOW_SIZE: 0x4, MAX_FRAME_SIZE: 0x5 } as const;
export const H2_ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
} as const;

/** The flow-control window every stream and the connection start with (RFC 9113 §6.9.2). */
export const DEFAULT_WINDOW = 65_535;
/** No flow-control window may exceed this (RFC 9113 §6.9.1). */
export const MAX_WINDOW = 0x7fff_ffff;
/** The frame size every endpoint accepts, and the least SETTINGS_MAX_FRAME_SIZE may be (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
/** The most SETTINGS_MAX_FRAME_SIZE may be. */
export const MAX_FRAME_SIZE_LIMIT = 0xff_ffff;
/** The largest stream identifier; a connection that used it up must be replaced. */
export const MAX_STREAM_ID = 0x7fff_ffff;

export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return h;
}

export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(payload.length, type, flags, streamId), payload]);
}

export function settingsFrame(settings: ReadonlyArray<readonly [id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

export function goAwayFrame(lastStreamId: number, code: number, debug: string): Buffer {
  const text = Buffer.from(debug, 'utf8');
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return frame(FRAME.GOAWAY, 0, 0, payload);
}

/** A connection error (RFC 9113 §5.4.1): the connection is unusable and `errorCode` goes out in a GOAWAY. */
export class H2ConnectionError extends Error {
  override readonly name = 'H2ConnectionError';
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A frame's payload without its padding (PADDED flag: a pad-length octet first, that many octets last). */
export function unpad(flags: number, payload: Buffer): Buffer {
  if (!(flags & FLAG.PADDED)) return payload;
  const pad = payload[0] ?? 0;
  if (pad >= payload.length) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'padding as long as the frame or longer');
  return payload.subarray(1, payload.length - pad);
}
