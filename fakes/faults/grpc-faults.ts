import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Clock } from '../../agent/clock/clock.js';

/** gRPC status names accepted in fault rules (`'UNAVAILABLE'`), besides numeric codes. */
export type GrpcStatusName = keyof typeof GrpcStatus;

/**
 * A fault for a gRPC fake, in the shape the fakes share: which calls it applies to (method, the
 * n-th matching call, a seeded probability, request fields) and what it does (fail with a status,
 * delay, or hang until the caller's deadline or cancellation).
 */
export interface GrpcFaultRule {
  /** Method name(s), e.g. 'NodePublishVolume'; any method when absent. */
  method?: string | readonly string[];
  /** Fire only on these 1-based occurrences of calls that match method and `match`. */
  nth?: number | readonly number[];
  /** Fire with this probability, drawn from the injector's seeded generator. */
  probability?: number;
  /** Request fields (dot paths into the decoded request) that must equal the value or match the RegExp. */
  match?: Readonly<Record<string, string | number | boolean | RegExp>>;
  /** Fire at most this many times. */
  times?: number;
  /** Status to fail with (name or number); with no code the call proceeds after the delay. */
  code?: GrpcStatusName | number;
  message?: string;
  /** Delay before failing or proceeding, on the injected clock. */
  delayMs?: number;
  /** Never answer: wait until the call is cancelled or its deadline passes. */
  hang?: boolean;
}

export interface FaultDecision {
  /** Index of the rule that fired, if any. */
  ruleIndex?: number;
  delayMs: number;
  hang: boolean;
  error?: { code: number; message: string };
}

/** mulberry32: a small seeded generator, so a seeded run replays its faults. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function statusCode(code: GrpcStatusName | number): number {
  if (typeof code === 'number') return code;
  const value = GrpcStatus[code];
  if (typeof value !== 'number') throw new Error(`unknown gRPC status ${JSON.stringify(code)}`);
  return value;
}

/** Checks rules up front so a typo fails when the fake starts, naming the rule and field. */
export function validateFaultRules(rules: readonly GrpcFaultRule[], knownMethods?: ReadonlySet<string>): void {
  rules.forEach((rule, i) => {
    const at = `faults[${i}]`;
    const methods = rule.method === undefined ? [] : typeof rule.method === 'string' ? [rule.method] : rule.method;
    for (const m of methods) {
      if (knownMethods && !knownMethods.has(m)) throw new Error(`${at}.method: unknown method ${JSON.stringify(m)}`);
    }
    const nths = rule.nth === undefined ? [] : typeof rule.nth === 'number' ? [rule.nth] : rule.nth;
    if (nths.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`${at}.nth: must be integers >= 1`);
    if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
      throw new Error(`${at}.probability: must be in [0, 1]`);
    }
    if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 0)) throw new Error(`${at}.times: must be an integer >= 0`);
    if (rule.delayMs !== undefined && !(rule.delayMs >= 0)) throw new Error(`${at}.delayMs: must be >= 0`);
    if (rule.code !== undefined) {
      try {
        const code = statusCode(rule.code);
        if (code === GrpcStatus.OK) throw new Error('OK is not a fault');
      } catch (err) {
        throw new Error(`${at}.code: ${(err as Error).message}`);
      }
    }
    if (rule.code === undefined && rule.delayMs === undefined && !rule.hang) {
      throw new Error(`${at}: needs an effect (code, delayMs or hang)`);
    }
  });
}

function fieldAt(request: unknown, path: string): unknown {
  let value: unknown = request;
  for (const key of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Decides, call by call, which fault (if any) applies. Rules are tried in order; the first that fires wins. */
export class GrpcFaultInjector {
  private readonly list: GrpcFaultRule[] = [];
  private readonly seen: number[] = [];
  private readonly fired: number[] = [];
  private readonly random: () => number;
  private readonly knownMethods: ReadonlySet<string> | undefined;

  constructor(rules: readonly GrpcFaultRule[] = [], options: { seed?: number; knownMethods?: ReadonlySet<string> } = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.knownMethods = options.knownMethods;
    this.add(...rules);
  }

  add(...rules: GrpcFaultRule[]): void {
    validateFaultRules(rules, this.knownMethods);
    for (const rule of rules) {
      this.list.push(rule);
      this.seen.push(0);
      this.fired.push(0);
    }
  }

  clear(): void {
    this.list.length = 0;
    this.seen.length = 0;
    this.fired.length = 0;
  }

  get rules(): readonly GrpcFaultRule[] {
    return this.list;
  }

  decide(method: string, request: unknown): FaultDecision {
    for (let i = 0; i < this.list.length; i++) {
      const rule = this.list[i] as GrpcFaultRule;
      if (!this.applies(rule, method, request)) continue;
      const occurrence = (this.seen[i] = (this.seen[i] ?? 0) + 1);
      if (rule.nth !== undefined) {
        const nths = typeof rule.nth === 'number' ? [rule.nth] : rule.nth;
        if (!nths.includes(occurrence)) continue;
      }
      if (rule.times !== undefined && (this.fired[i] ?? 0) >= rule.times) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      this.fired[i] = (this.fired[i] ?? 0) + 1;
      return {
        ruleIndex: i,
        delayMs: rule.delayMs ?? 0,
        hang: rule.hang ?? false,
        ...(rule.code !== undefined
          ? { error: { code: statusCode(rule.code), message: rule.message ?? `injected fault on ${method}` } }
          : {}),
      };
    }
    return { delayMs: 0, hang: false };
  }

  private applies(rule: GrpcFaultRule, method: string, request: unknown): boolean {
    if (rule.method !== undefined) {
      const methods = typeof rule.method === 'string' ? [rule.method] : rule.method;
      if (!methods.includes(method)) return false;
    }
    for (const [path, expected] of Object.entries(rule.match ?? {})) {
      const actual = fieldAt(request, path);
      if (expected instanceof RegExp ? !(typeof actual === 'string' && expected.test(actual)) : actual !== expected) return false;
    }
    return true;
  }
}

/**
 * Carries out a decision's waiting part on the clock: the delay, then for a hang, waiting until
 * `cancelled` aborts (the call's deadline or cancellation). Rejects when aborted.
 */
export async function waitForFault(decision: FaultDecision, clock: Clock, cancelled: AbortSignal): Promise<void> {
  if (decision.delayMs > 0) await clock.sleep(decision.delayMs, cancelled);
  if (decision.hang) {
    await new Promise<void>((_, reject) => {
      if (cancelled.aborted) reject(cancelled.reason);
      cancelled.addEventListener('abort', () => reject(cancelled.reason), { once: true });
    });
  }
}
