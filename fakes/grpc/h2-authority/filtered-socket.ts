import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { AuthorityFilter } from './frame-filter.js';

/**
 * A client connection as the HTTP/2 server should see it: bytes from the client go through an
 * AuthorityFilter, bytes to the client go straight to the socket. Used for connections whose header
 * blocks are rewritten (others get the socket itself, see unix-listener.ts).
 */
export class AuthorityFilteredSocket extends Duplex {
  constructor(
    private readonly socket: Socket,
    readonly authority: AuthorityFilter,
    /** What the filter already let through, to be read first. */
    initial: Buffer,
    /** Told why a connection was closed for bytes the filter could not rewrite. */
    onRejected?: (reason: Error) => void,
  ) {
    super({ allowHalfOpen: false });
    if (initial.length > 0) this.push(initial);
    socket.on('data', (chunk: Buffer) => {
      let more: boolean;
      if (this.authority.settled) {
        more = this.push(chunk);
      } else {
        let parts: Buffer[];
        try {
          parts = this.authority.push(chunk);
        } catch (err) {
          onRejected?.(err as Error);
          // Closed without an error: the HTTP/2 session ends as for a client that hung up.
          this.destroy();
          return;
        }
        more = true;
        for (const part of parts) more = this.push(part) && more;
      }
      if (!more) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    // Resets and the like end the connection like a close; the session has nothing to report.
    socket.on('error', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
