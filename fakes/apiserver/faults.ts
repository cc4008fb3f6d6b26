import { seededRandom } from '../../agent/util/seeded-random.js';
import { ApiError, errors } from './status.js';

/**
 * Request-level fault injection, decided by a seeded RNG so a failing run replays: per-route error
 * rate (with the Status code to answer), added latency and dropped connections. Watch-level faults
 * (forced closes, 410s, drops) act on open streams and live in the server.
 */
export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Substring or pattern matched against the path (any when absent). */
  path?: string | RegExp;
  /** Only watch requests (true), only non-watch requests (false), or both (absent). */
  watch?: boolean;
  /** Probability in [0, 1] of answering with an error instead of serving the request. */
  errorRate?: number;
  /** Status code of injected errors: 429, 500 (default), 503 or 504. */
  errorCode?: 429 | 500 | 503 | 504;
  /** Added latency: a fixed delay or a [min, max] range drawn uniformly. */
  latencyMs?: number | readonly [number, number];
  /** Probability in [0, 1] of destroying the connection without any answer. */
  dropRate?: number;
}

export interface FaultDecision {
  latencyMs: number;
  error?: ApiError;
  drop: boolean;
}

function injected(code: number): ApiError {
  switch (code) {
    case 429:
      return errors.tooManyRequests('Too many requests, please try again later. (injected fault)', 1);
    case 503:
      return errors.unavailable('the server is currently unable to handle the request (injected fault)');
    case 504:
      return errors.timeout('the server was unable to return a response in the time allotted (injected fault)');
    default:
      return errors.internal('injected fault');
  }
}

export class FaultInjector {
  private rules: FaultRule[] = [];
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    for (const rate of [rule.errorRate, rule.dropRate]) {
      if (rate !== undefined && !(rate >= 0 && rate <= 1)) throw new RangeError(`fault rate must be within [0, 1], got ${rate}`);
    }
    this.rules.push(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  clear(): void {
    this.rules = [];
  }

  get active(): boolean {
    return this.rules.length > 0;
  }

  decide(method: string, path: string, isWatch: boolean): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0, drop: false };
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.watch !== undefined && rule.watch !== isWatch) continue;
      if (rule.path !== undefined && !(typeof rule.path === 'string' ? path.includes(rule.path) : rule.path.test(path))) continue;
      if (rule.latencyMs !== undefined) {
        const [min, max] = typeof rule.latencyMs === 'number' ? [rule.latencyMs, rule.latencyMs] : rule.latencyMs;
        decision.latencyMs += min + (max - min) * this.random();
      }
      if (!decision.drop && rule.dropRate !== undefined && this.random() < rule.dropRate) decision.drop = true;
      if (!decision.error && rule.errorRate !== undefined && this.random() < rule.errorRate) decision.error = injected(rule.errorCode ?? 500);
    }
    return decision;
  }
}
