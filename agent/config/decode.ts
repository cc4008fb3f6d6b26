import { parseGoDuration } from './duration.js';
import { CONFIG_FIELDS, UNMODELLED_UPSTREAM_FIELDS, type FieldKind, type ModelledField } from './fields.js';
import type { ConfigProblem, ConfigTaint } from './types.js';

export const API_VERSION = 'kubelet.config.k8s.io/v1beta1';
export const KIND = 'KubeletConfiguration';

export interface DecodedFile {
  /** Fields the file set to a value that counts as set (zero values of `zeroIsUnset` fields do not). */
  values: Partial<Record<ModelledField, unknown>>;
  errors: ConfigProblem[];
  /** Unknown fields: reported, not fatal (kubelet decodes v1beta1 leniently and warns). */
  warnings: ConfigProblem[];
}

/** Decodes a parsed KubeletConfiguration document (plain JSON values) field by field. */
export function decodeConfigDocument(doc: unknown): DecodedFile {
  const out: DecodedFile = { values: {}, errors: [], warnings: [] };
  if (doc === null || doc === undefined) {
    out.errors.push({ field: 'kind', message: `missing; expected ${KIND}` });
    return out;
  }
  if (!isPlainObject(doc)) {
    out.errors.push({ field: '(root)', message: 'must be a mapping of KubeletConfiguration fields' });
    return out;
  }
  if (doc.apiVersion !== API_VERSION) {
    const got = doc.apiVersion === undefined ? 'missing' : `got ${JSON.stringify(doc.apiVersion)}`;
    out.errors.push({ field: 'apiVersion', message: `must be ${API_VERSION} (${got})` });
  }
  if (doc.kind !== KIND) {
    const got = doc.kind === undefined ? 'missing' : `got ${JSON.stringify(doc.kind)}`;
    out.errors.push({ field: 'kind', message: `must be ${KIND} (${got})` });
  }
  for (const [key, raw] of Object.entries(doc)) {
    if (key === 'apiVersion' || key === 'kind' || UNMODELLED_UPSTREAM_FIELDS.has(key)) continue;
    const spec = (CONFIG_FIELDS as Record<string, (typeof CONFIG_FIELDS)[ModelledField] | undefined>)[key];
    if (!spec) {
      out.warnings.push({ field: key, message: `unknown field ${JSON.stringify(key)}` });
      continue;
    }
    if (raw === null) continue; // JSON null leaves a field unset, as in Go.
    const decoded = decodeValue(key, spec.kind, raw, out);
    if (decoded === INVALID) continue;
    if (spec.zeroIsUnset && (decoded === 0 || decoded === '')) continue;
    out.values[key as ModelledField] = decoded;
  }
  return out;
}

const INVALID = Symbol('invalid');

function decodeValue(field: string, kind: FieldKind, raw: unknown, out: DecodedFile): unknown {
  const fail = (message: string): typeof INVALID => {
    out.errors.push({ field, message });
    return INVALID;
  };
  switch (kind.type) {
    case 'duration':
      if (typeof raw !== 'string') return fail(`must be a duration string such as "1m30s" (got ${describe(raw)})`);
      try {
        return parseGoDuration(raw);
      } catch (err) {
        return fail((err as Error).message);
      }
    case 'int':
    case 'nullableInt': {
      const min = kind.type === 'int' ? (kind.min ?? -2147483648) : -2147483648;
      const max = kind.type === 'int' ? (kind.max ?? 2147483647) : 2147483647;
      if (typeof raw !== 'number' || !Number.isInteger(raw)) return fail(`must be an integer (got ${describe(raw)})`);
      if (raw < min || raw > max) return fail(`${raw} is out of range`);
      return raw;
    }
    case 'float':
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return fail(`must be a number (got ${describe(raw)})`);
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') return fail(`must be true or false (got ${describe(raw)})`);
      return raw;
    case 'string':
      if (typeof raw !== 'string') return fail(`must be a string (got ${describe(raw)})`);
      return raw;
    case 'enum':
      if (typeof raw !== 'string') return fail(`must be a string (got ${describe(raw)})`);
      if (raw === '') return raw;
      if (!kind.values.includes(raw)) {
        return fail(`unsupported value ${JSON.stringify(raw)}: must be one of ${kind.values.map((v) => JSON.stringify(v)).join(', ')}`);
      }
      return raw;
    case 'stringMap':
    case 'boolMap': {
      if (!isPlainObject(raw)) return fail(`must be a mapping (got ${describe(raw)})`);
      const map: Record<string, string | boolean> = {};
      let ok = true;
      for (const [k, v] of Object.entries(raw)) {
        if (kind.type === 'stringMap' && typeof v !== 'string') {
          out.errors.push({ field: `${field}[${JSON.stringify(k)}]`, message: `must be a string; quote it: "${String(v)}" (got ${describe(v)})` });
          ok = false;
        } else if (kind.type === 'boolMap' && typeof v !== 'boolean') {
          out.errors.push({ field: `${field}[${JSON.stringify(k)}]`, message: `must be true or false (got ${describe(v)})` });
          ok = false;
        } else {
          map[k] = v as string | boolean;
        }
      }
      return ok ? map : INVALID;
    }
    case 'stringList':
      if (!Array.isArray(raw) || !raw.every((v) => typeof v === 'string')) {
        return fail(`must be a list of strings (got ${describe(raw)})`);
      }
      return [...raw];
    case 'taints':
      return decodeTaints(field, raw, out) ?? INVALID;
    case 'crashLoopBackOff': {
      if (!isPlainObject(raw)) return fail(`must be a mapping (got ${describe(raw)})`);
      const result: { maxContainerRestartPeriod: number | null } = { maxContainerRestartPeriod: null };
      for (const [k, v] of Object.entries(raw)) {
        if (k !== 'maxContainerRestartPeriod') {
          out.warnings.push({ field: `${field}.${k}`, message: `unknown field ${JSON.stringify(`${field}.${k}`)}` });
          continue;
        }
        if (v === null) continue;
        const d = decodeValue(`${field}.${k}`, { type: 'duration' }, v, out);
        if (d === INVALID) return INVALID;
        result.maxContainerRestartPeriod = d as number;
      }
      return result;
    }
  }
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

function decodeTaints(field: string, raw: unknown, out: DecodedFile): ConfigTaint[] | undefined {
  if (!Array.isArray(raw)) {
    out.errors.push({ field, message: `must be a list of taints (got ${describe(raw)})` });
    return undefined;
  }
  const taints: ConfigTaint[] = [];
  let ok = true;
  raw.forEach((item: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isPlainObject(item) || typeof item.key !== 'string' || item.key === '') {
      out.errors.push({ field: `${at}.key`, message: 'required' });
      ok = false;
      return;
    }
    const effect = item.effect;
    if (typeof effect !== 'string' || !(TAINT_EFFECTS as readonly string[]).includes(effect)) {
      out.errors.push({ field: `${at}.effect`, message: `must be one of ${TAINT_EFFECTS.join(', ')}` });
      ok = false;
      return;
    }
    if (item.value !== undefined && typeof item.value !== 'string') {
      out.errors.push({ field: `${at}.value`, message: 'must be a string' });
      ok = false;
      return;
    }
    if (item.timeAdded !== undefined && item.timeAdded !== null) {
      out.errors.push({ field: `${at}.timeAdded`, message: 'must not be set' });
      ok = false;
      return;
    }
    taints.push({
      key: item.key,
      effect: effect as ConfigTaint['effect'],
      ...(typeof item.value === 'string' ? { value: item.value } : {}),
    });
  });
  return ok ? taints : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
