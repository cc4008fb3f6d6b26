import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CniError, CniErrorCode } from './errors.js';
import type { CniCommand, CniEnv, CniFaultRule } from './types.js';

/**
 * Numbers calls of one command across plugin processes: each call claims `<command>.<n>` with
 * O_EXCL, so the n it gets is its unique 1-based ordinal even when calls run concurrently.
 */
export function claimCallNumber(dir: string, command: CniCommand): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let n = readdirSync(dir).filter((f) => f.startsWith(`${command}.`)).length + 1;
  for (;;) {
    try {
      closeSync(openSync(join(dir, `${command}.${n}`), 'wx', 0o600));
      return n;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      n++;
    }
  }
}

/** A uniform number in [0, 1) from (seed, command, call number): the same run replays the same faults. */
export function seededUniform(seed: number, command: string, n: number): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const ch of `${command}#${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

export interface FaultContext {
  env: CniEnv;
  callNumber: number;
}

/** The first rule that applies to this call, if any. */
export function pickFault(rules: readonly CniFaultRule[], ctx: FaultContext): CniFaultRule | undefined {
  return rules.find((rule) => {
    if (rule.command !== undefined && rule.command !== ctx.env.command) return false;
    if (rule.nth !== undefined) {
      const nths = Array.isArray(rule.nth) ? rule.nth : [rule.nth];
      if (!nths.includes(ctx.callNumber)) return false;
    }
    const m = rule.match ?? {};
    if (m.containerId !== undefined && m.containerId !== ctx.env.containerId) return false;
    if (m.ifname !== undefined && m.ifname !== ctx.env.ifname) return false;
    if (m.podName !== undefined && m.podName !== ctx.env.args.K8S_POD_NAME) return false;
    if (m.podNamespace !== undefined && m.podNamespace !== ctx.env.args.K8S_POD_NAMESPACE) return false;
    if (rule.probability !== undefined && seededUniform(rule.seed ?? 1, ctx.env.command, ctx.callNumber) >= rule.probability) {
      return false;
    }
    return true;
  });
}

/** Validates the `faults` list of a network config, naming the offending entry. */
export function validateFaultRules(raw: unknown): CniFaultRule[] {
  if (raw === undefined) return [];
  const bad = (field: string, problem: string): never => {
    throw new CniError(CniErrorCode.InvalidNetworkConfig, `invalid network config: ${field}: ${problem}`);
  };
  if (!Array.isArray(raw)) return bad('faults', 'must be a list');
  return raw.map((r: unknown, i) => {
    const at = `faults[${i}]`;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return bad(at, 'must be an object');
    const rule = r as Record<string, unknown>;
    if (rule.command !== undefined && !['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'].includes(rule.command as string)) {
      bad(`${at}.command`, 'must be ADD, DEL, CHECK, VERSION, STATUS or GC');
    }
    const nths = rule.nth === undefined ? [] : Array.isArray(rule.nth) ? rule.nth : [rule.nth];
    if (nths.some((n: unknown) => !Number.isInteger(n) || (n as number) < 1)) bad(`${at}.nth`, 'must be integers >= 1');
    if (rule.probability !== undefined && (typeof rule.probability !== 'number' || rule.probability < 0 || rule.probability > 1)) {
      bad(`${at}.probability`, 'must be a number in [0, 1]');
    }
    if (rule.code !== undefined && (!Number.isInteger(rule.code) || (rule.code as number) < 1)) bad(`${at}.code`, 'must be a positive integer');
    if (rule.delayMs !== undefined && (typeof rule.delayMs !== 'number' || rule.delayMs < 0)) bad(`${at}.delayMs`, 'must be >= 0');
    if (rule.code === undefined && rule.delayMs === undefined) bad(at, 'needs an effect: code (error) and/or delayMs');
    return rule as CniFaultRule;
  });
}
