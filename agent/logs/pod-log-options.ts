/**
 * core/v1 PodLogOptions as query parameters: decoding (the v1 parameter codec's rules), validation
 * (ValidatePodLogOptions) and the reader's options derived from them (kuberuntime/logs NewLogOptions).
 * Pure; shared by the kubelet server and the mock API server's pods/log.
 */
import { parseRfc3339Nano } from './cri-log-format.js';

export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
  /** RFC 3339 text as sent. */
  sinceTime?: string;
  timestamps?: boolean;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend?: boolean;
}

export interface FieldProblem {
  /** Status cause reason, e.g. FieldValueInvalid. */
  readonly reason: 'FieldValueInvalid' | 'FieldValueForbidden';
  /** The field path; '' for the object as a whole. */
  readonly field: string;
  /** Cause message as apimachinery words it, e.g. `Invalid value: -1: must be greater than or equal to 0`. */
  readonly message: string;
}

const BOOLS = ['follow', 'previous', 'timestamps', 'insecureSkipTLSVerifyBackend'] as const;
const INTS = ['sinceSeconds', 'tailLines', 'limitBytes'] as const;

/** Go's strconv.ParseBool spellings. */
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/**
 * Decodes PodLogOptions from query parameters (the first value of each counts, unknown parameters
 * are ignored), or returns the decoding error as Go's converters word it.
 */
export function decodePodLogQuery(query: URLSearchParams): { options: PodLogOptions } | { error: string } {
  const options: PodLogOptions = {};
  const container = query.get('container');
  if (container !== null) options.container = container;
  for (const name of BOOLS) {
    const raw = query.get(name);
    if (raw === null) continue;
    if (TRUE.has(raw)) options[name] = true;
    else if (FALSE.has(raw)) options[name] = false;
    else return { error: `strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax` };
  }
  for (const name of INTS) {
    const raw = query.get(name);
    if (raw === null) continue;
    if (!/^[+-]?\d+$/.test(raw)) return { error: `strconv.ParseInt: parsing ${JSON.stringify(raw)}: invalid syntax` };
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) return { error: `strconv.ParseInt: parsing ${JSON.stringify(raw)}: value out of range` };
    options[name] = value;
  }
  const since = query.get('sinceTime');
  if (since !== null && since !== '') {
    if (parseRfc3339Nano(since) === null) {
      return { error: `parsing time ${JSON.stringify(since)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(since)} as RFC 3339` };
    }
    options.sinceTime = since;
  }
  return { options };
}

/** ValidatePodLogOptions: what an API server answers 422 to. */
export function validatePodLogOptions(o: PodLogOptions): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const invalid = (field: string, value: number, why: string): void => {
    problems.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${why}` });
  };
  if (o.tailLines !== undefined && o.tailLines < 0) invalid('tailLines', o.tailLines, 'must be greater than or equal to 0');
  if (o.limitBytes !== undefined && o.limitBytes < 1) invalid('limitBytes', o.limitBytes, 'must be greater than 0');
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) {
    problems.push({ reason: 'FieldValueForbidden', field: '', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) {
    invalid('sinceSeconds', o.sinceSeconds, 'must be greater than 0');
  }
  return problems;
}

/**
 * The query an API server sends the kubelet for these options (upstream LogLocation: only the
 * options the kubelet reads, in its fixed set; sinceTime at second precision).
 */
export function kubeletLogQuery(o: PodLogOptions): URLSearchParams {
  const q = new URLSearchParams();
  if (o.follow) q.set('follow', 'true');
  if (o.limitBytes !== undefined) q.set('limitBytes', String(o.limitBytes));
  if (o.previous) q.set('previous', 'true');
  if (o.sinceSeconds !== undefined) q.set('sinceSeconds', String(o.sinceSeconds));
  if (o.sinceTime !== undefined) q.set('sinceTime', secondsRfc3339(o.sinceTime));
  if (o.tailLines !== undefined) q.set('tailLines', String(o.tailLines));
  if (o.timestamps) q.set('timestamps', 'true');
  return q;
}

function secondsRfc3339(text: string): string {
  const ns = parseRfc3339Nano(text);
  if (ns === null) return text;
  return `${new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 19)}Z`;
}

/** The reader's options (upstream LogOptions): -1 means "all" for tail and bytes; since in epoch ns (0 = none). */
export interface LogOptions {
  readonly tail: number;
  readonly bytes: number;
  readonly sinceNs: bigint;
  readonly follow: boolean;
  readonly timestamp: boolean;
}

/** NewLogOptions: sinceSeconds counts back from `nowMs`; a later sinceTime wins. */
export function newLogOptions(o: PodLogOptions, nowMs: number): LogOptions {
  let sinceNs = 0n;
  if (o.sinceSeconds !== undefined) sinceNs = BigInt(Math.floor(nowMs)) * 1_000_000n - BigInt(o.sinceSeconds) * 1_000_000_000n;
  if (o.sinceTime !== undefined) {
    const t = parseRfc3339Nano(o.sinceTime);
    if (t !== null && t > sinceNs) sinceNs = t;
  }
  return {
    tail: o.tailLines ?? -1,
    bytes: o.limitBytes ?? -1,
    sinceNs,
    follow: o.follow ?? false,
    timestamp: o.timestamps ?? false,
  };
}
