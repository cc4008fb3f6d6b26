/** A header block that cannot be decoded (RFC 7541 calls this a COMPRESSION_ERROR); names what was wrong. */
export class HpackError extends Error {
  override readonly name = 'HpackError';
}
