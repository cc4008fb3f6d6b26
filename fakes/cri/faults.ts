import { seededRandom } from '../../agent/util/seeded-random.js';
import { parseCode, type CodeName, type CodeValue } from './errors.js';

/**
 * Fault injection by rules. A rule selects calls (method, request fields, n-th matching call, seeded
 * probability) and says what happens to them. Decisions are pure functions of the rules, the call
 * order and the seed, so a failing run replays exactly.
 */
export type FaultEffect =
  /** Answer with this gRPC status instead of running the call. */
  | { readonly type: 'error'; readonly code: CodeName | CodeValue; readonly message?: string }
  /** Wait this long on the clock, then run the call normally. */
  | { readonly type: 'delay'; readonly ms: number }
  /** Never answer: the client sees its own deadline expire. */
  | { readonly type: 'hang' }
  /**
   * Restart the fake: the socket closes (this call and every open connection fail UNAVAILABLE) and
   * re-listens after downMs; with keepState false every sandbox, container and image is gone.
   */
  | { readonly type: 'restart'; readonly keepState: boolean; readonly downMs?: number };

export type RequestMatcher = Readonly<Record<string, string | number | boolean | RegExp>> | ((request: unknown) => boolean);

export interface FaultRule {
  /** RPC name ('RunPodSandbox') or a RegExp over it; every method when absent. */
  readonly method?: string | RegExp;
  /** Request fields by dotted path ('config.metadata.name'; snake_case segments are accepted too). */
  readonly match?: RequestMatcher;
  /** Fire only on these 1-based occurrences among the calls that match method and fields. */
  readonly nth?: number | readonly number[];
  /** Fire with this probability (0..1), drawn from the injector's seeded generator. */
  readonly probability?: number;
  /** Fire at most this many times. */
  readonly times?: number;
  readonly effect: FaultEffect;
  /** Name used in the journal; defaults to a description of the rule. */
  readonly name?: string;
}

export interface FiredFault {
  readonly rule: string;
  readonly method: string;
  readonly effect: FaultEffect;
}

interface RuleState {
  readonly rule: FaultRule;
  readonly id: number;
  matched: number;
  fired: number;
}

export class FaultInjector {
  private rules: RuleState[] = [];
  private nextId = 1;
  private random: () => number;

  constructor(
    rules: readonly FaultRule[] = [],
    private seed = 1,
  ) {
    this.random = seededRandom(seed);
    for (const r of rules) this.add(r);
  }

  /** Adds a rule (validated); returns a function that removes it. */
  add(rule: FaultRule): () => void {
    validateRule(rule);
    const state: RuleState = { rule, id: this.nextId++, matched: 0, fired: 0 };
    this.rules.push(state);
    return () => {
      this.rules = this.rules.filter((r) => r !== state);
    };
  }

  clear(): void {
    this.rules = [];
  }

  reseed(seed: number): void {
    this.seed = seed;
    this.random = seededRandom(seed);
  }

  get size(): number {
    return this.rules.length;
  }

  /** The effects that apply to this call, in rule order (counters advance as a side effect). */
  decide(method: string, request: unknown): FiredFault[] {
    const fired: FiredFault[] = [];
    for (const state of this.rules) {
      const { rule } = state;
      if (!methodMatches(rule.method, method) || !requestMatches(rule.match, request)) continue;
      state.matched++;
      if (rule.times !== undefined && state.fired >= rule.times) continue;
      if (rule.nth !== undefined) {
        const wanted = typeof rule.nth === 'number' ? [rule.nth] : rule.nth;
        if (!wanted.includes(state.matched)) continue;
      }
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      state.fired++;
      fired.push({ rule: rule.name ?? describeRule(rule, state.id), method, effect: rule.effect });
    }
    return fired;
  }
}

function methodMatches(wanted: FaultRule['method'], method: string): boolean {
  if (wanted === undefined) return true;
  return typeof wanted === 'string' ? wanted === method : wanted.test(method);
}

function requestMatches(matcher: RequestMatcher | undefined, request: unknown): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'function') {
    try {
      return matcher(request);
    } catch {
      return false;
    }
  }
  for (const [path, expected] of Object.entries(matcher)) {
    const actual = lookup(request, path);
    if (expected instanceof RegExp) {
      if (typeof actual !== 'string' || !expected.test(actual)) return false;
    } else if (String(actual) !== String(expected)) {
      return false;
    }
  }
  return true;
}

function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const raw of path.split('.')) {
    const key = raw.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function validateRule(rule: FaultRule): void {
  const e = rule.effect as FaultEffect | undefined;
  if (!e || typeof e !== 'object') throw new Error('fault rule: effect is required');
  switch (e.type) {
    case 'error':
      parseCode(e.code);
      break;
    case 'delay':
      if (!(Number.isFinite(e.ms) && e.ms >= 0)) throw new Error(`fault rule: effect.ms must be >= 0, got ${String(e.ms)}`);
      break;
    case 'hang':
      break;
    case 'restart':
      if (typeof e.keepState !== 'boolean') throw new Error('fault rule: effect.keepState (boolean) is required for restart');
      break;
    default:
      throw new Error(`fault rule: unknown effect type "${String((e as { type?: unknown }).type)}" (error, delay, hang, restart)`);
  }
  if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1)) {
    throw new Error(`fault rule: probability must be within [0, 1], got ${rule.probability}`);
  }
  const nths = rule.nth === undefined ? [] : typeof rule.nth === 'number' ? [rule.nth] : rule.nth;
  if (nths.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('fault rule: nth must be positive integers (1 = first matching call)');
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0)) throw new Error('fault rule: times must be a non-negative integer');
}

function describeRule(rule: FaultRule, id: number): string {
  const method = rule.method === undefined ? '*' : String(rule.method);
  return `#${id} ${method} -> ${rule.effect.type}`;
}

/**
 * Rules from JSON (the CLI's --faults file): RegExps are written as {"regexp": "..."} for method and
 * match values. Throws naming the rule index and field on bad input.
 */
export function faultRulesFromJson(text: string): FaultRule[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`faults: not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error('faults: expected a JSON array of rules');
  return parsed.map((raw: unknown, i) => {
    if (!raw || typeof raw !== 'object') throw new Error(`faults[${i}]: expected an object`);
    const r = raw as Record<string, unknown>;
    const toPattern = (v: unknown, field: string): string | RegExp => {
      if (typeof v === 'string') return v;
      if (v && typeof v === 'object' && typeof (v as { regexp?: unknown }).regexp === 'string') return new RegExp((v as { regexp: string }).regexp);
      throw new Error(`faults[${i}].${field}: expected a string or {"regexp": "..."}`);
    };
    const match: Record<string, string | number | boolean | RegExp> = {};
    if (r.match !== undefined) {
      if (!r.match || typeof r.match !== 'object') throw new Error(`faults[${i}].match: expected an object of field paths`);
      for (const [k, v] of Object.entries(r.match as Record<string, unknown>)) {
        match[k] = typeof v === 'number' || typeof v === 'boolean' ? v : toPattern(v, `match.${k}`);
      }
    }
    const rule: FaultRule = {
      ...(r.method !== undefined ? { method: toPattern(r.method, 'method') } : {}),
      ...(r.match !== undefined ? { match } : {}),
      ...(r.nth !== undefined ? { nth: r.nth as number | number[] } : {}),
      ...(r.probability !== undefined ? { probability: r.probability as number } : {}),
      ...(r.times !== undefined ? { times: r.times as number } : {}),
      ...(typeof r.name === 'string' ? { name: r.name } : {}),
      effect: r.effect as FaultEffect,
    };
    try {
      validateRule(rule);
    } catch (err) {
      throw new Error(`faults[${i}]: ${(err as Error).message.replace(/^fault rule: /, '')}`);
    }
    return rule;
  });
}
