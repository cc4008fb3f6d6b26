import { randomBytes } from 'node:crypto';
import type { Clock } from '../../agent/clock/clock.js';
import { Code, CriError } from './errors.js';

/** How long a streaming URL stays valid (the kubelet streaming package's CacheTTL). */
export const STREAM_TOKEN_TTL_MS = 60_000;
/** Tokens handed out and not yet used or expired, at most (its maxInFlight). */
export const MAX_IN_FLIGHT = 1000;

/**
 * The streaming server's request cache: each Exec request gets an unguessable single-use token
 * (8 random bytes, URL-safe base64) that expires after a minute of clock time.
 */
export class StreamTokenCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = STREAM_TOKEN_TTL_MS,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  insert(value: T): string {
    this.dropExpired();
    if (this.entries.size >= this.maxInFlight) throw new CriError(Code.RESOURCE_EXHAUSTED, 'maximum number of in-flight requests exceeded');
    let token = randomBytes(8).toString('base64url');
    while (this.entries.has(token)) token = randomBytes(8).toString('base64url');
    this.entries.set(token, { value, expiresAt: this.clock.monotonic() + this.ttlMs });
    return token;
  }

  /** The request behind a token, once: a second use, an unknown or an expired token gets undefined. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return entry.expiresAt > this.clock.monotonic() ? entry.value : undefined;
  }

  private dropExpired(): void {
    const now = this.clock.monotonic();
    for (const [token, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(token);
  }
}
