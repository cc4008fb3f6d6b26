import type { ShellStdin } from './shell/interpreter.js';

/**
 * Input for a process, read chunk by chunk: a streaming session's channel 0 (ending on the close signal
 * or a disconnect), or a container's own stdin fed by attached clients.
 */
export class StdinQueue implements ShellStdin {
  private readonly chunks: string[] = [];
  private waiting: ((chunk: string | null) => void) | null = null;
  private ended = false;
  private readonly decoder = new TextDecoder();

  push(data: Buffer | string): void {
    if (this.ended || data.length === 0) return;
    this.deliver(typeof data === 'string' ? data : this.decoder.decode(data, { stream: true }));
  }

  end(): void {
    if (this.ended) return;
    const rest = this.decoder.decode();
    if (rest) this.deliver(rest);
    this.ended = true;
    this.waiting?.(null);
    this.waiting = null;
  }

  read(): Promise<string | null> {
    const next = this.chunks.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private deliver(text: string): void {
    if (!text) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(text);
    } else this.chunks.push(text);
  }
}
